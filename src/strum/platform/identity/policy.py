"""IAM policy documents: parsed once (refused with the line and field), evaluated per request.

A document is IAM's JSON: ``Version``, ``Statement`` (one object or a list), each statement
with ``Effect``, exactly one of ``Action``/``NotAction``, exactly one of
``Resource``/``NotResource``, optionally ``Sid`` and ``Condition``; a resource-based policy
(a function's, from ``AddPermission``) names a ``Principal`` instead of taking the caller's.

Evaluation is IAM's for one account ("Policy evaluation logic"): a request is denied
unless some statement allows it, and an explicit ``Deny`` in any policy that applies wins
over every ``Allow``. Actions match case-insensitively with ``*``/``?``; resource ARNs
match case-sensitively, wildcards kept inside an ARN segment unless a ``*`` ends it.

Hand-written because it is strum's own (see ``conditions``).
"""

from __future__ import annotations

import enum
import functools
import json
import json.scanner
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strum.platform.identity.conditions import (
    Condition,
    ConditionError,
    Context,
    arn_glob,
    glob,
)

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "Request",
    "Statement",
    "authorize",
    "execution_policy",
    "resource_policy",
]

VERSIONS = ("2012-10-17", "2008-10-17")
# IAM's limits on an inline policy; a platform key's policy is held to the same.
MAX_DOCUMENT_BYTES = 10_240
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}


class PolicyError(ValueError):
    """A policy document IAM would refuse; the message names the line and the field."""

    def __init__(self, message: str, *, line: int | None = None, field: str = "") -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{field + ': ' if field else ''}{message}")
        self.line = line
        self.field = field


class Decision(enum.Enum):
    """The outcome of evaluating a request against the policies that apply to it."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW


@dataclass(frozen=True)
class Request:
    """What is asked: an IAM action on a resource ARN, by a principal, with context keys."""

    action: str
    resource: str
    # The caller's ARN (``arn:aws:iam::<account>:user/<key name>``, a function's role ARN)
    # or a service principal (``events.amazonaws.com``); resource policies match on it.
    principal: str = ""
    principal_account: str = ""
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class Principals:
    """A resource policy's ``Principal``: ``*``, or AWS account/ARN and service names."""

    anyone: bool = False
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    def match(self, request: Request, *, deny: bool = False) -> bool:
        """Whether the request's principal is named here.

        An account (its id, or its root ARN) delegates to that account: an Allow then
        names only the account's root - its other identities need an identity policy of
        their own ("Principal" in IAM's reference) - while a Deny reaches all of them.
        A role's ARN names the sessions of that role (``assumed-role/<role>/...``).
        """
        if self.anyone:
            return True
        for entry in self.aws:
            if entry == "*":
                return True
            account = entry if entry.isdigit() else _root_account(entry)
            if account is not None:
                root = f"arn:aws:iam::{account}:root"
                if request.principal == root or (deny and account == request.principal_account):
                    return True
                continue
            if arn_glob(entry).fullmatch(request.principal) or _assumed(entry, request.principal):
                return True
        return request.principal in self.services


@dataclass(frozen=True)
class Statement:
    """One parsed statement; ``applies`` says whether it speaks about a request."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False
    principals: Principals | None = None
    not_principal: bool = False
    conditions: tuple[Condition, ...] = ()
    sid: str = ""

    def applies(self, request: Request) -> bool:
        action = any(glob(p, ignore_case=True).fullmatch(request.action) for p in self.actions)
        if action == self.not_action:
            return False
        resource = any(arn_glob(p).fullmatch(request.resource) for p in self.resources)
        if resource == self.not_resource:
            return False
        named = self.principals is not None and self.principals.match(
            request, deny=self.effect == "Deny"
        )
        if self.principals is not None and named == self.not_principal:
            return False
        return all(condition.holds(request.context) for condition in self.conditions)


@dataclass(frozen=True)
class Policy:
    """A parsed policy document (identity-based, or resource-based with principals)."""

    statements: tuple[Statement, ...]
    document: str = ""

    @classmethod
    def parse(cls, document: str | Mapping[str, Any], *, resource_based: bool = False) -> Policy:
        """Parse and check a document; raise ``PolicyError`` naming the line and field."""
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        if len(text.encode()) > MAX_DOCUMENT_BYTES:
            raise PolicyError(f"the document is over IAM's {MAX_DOCUMENT_BYTES} bytes")
        located = _Located(text)
        tree = located.load()
        if not isinstance(tree, dict):
            raise PolicyError("a policy document is a JSON object", line=1)
        unknown = sorted(set(tree) - {"Version", "Id", "Statement"})
        if unknown:
            raise PolicyError("unknown key", line=located.line(tree, unknown[0]), field=unknown[0])
        version = tree.get("Version", VERSIONS[0])
        if version not in VERSIONS:
            raise PolicyError(
                f"{version!r} is not a policy version; use {VERSIONS[0]!r}",
                line=located.line(tree, "Version"),
                field="Version",
            )
        raw = tree.get("Statement")
        if raw is None:
            raise PolicyError("missing: a policy needs at least one statement", field="Statement")
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise PolicyError("a policy needs at least one statement", field="Statement")
        statements = tuple(
            _statement(item, f"Statement[{index}]", located, resource_based)
            for index, item in enumerate(items)
        )
        return cls(statements, text)

    def decide(self, request: Request) -> Decision:
        """This policy alone: explicit deny, allow, or silence (implicit deny)."""
        allowed = False
        for statement in self.statements:
            if statement.applies(request):
                if statement.effect == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
        return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def authorize(
    request: Request,
    identity_policies: Iterable[Policy],
    resource_policies: Iterable[Policy] = (),
) -> Decision:
    """IAM's evaluation for a request within one account.

    Any explicit deny wins; otherwise an allow in either an identity policy or a resource
    policy is enough (within one account the two are a union); otherwise implicit deny.
    """
    decisions = [policy.decide(request) for policy in (*identity_policies, *resource_policies)]
    if Decision.EXPLICIT_DENY in decisions:
        return Decision.EXPLICIT_DENY
    return Decision.ALLOW if Decision.ALLOW in decisions else Decision.IMPLICIT_DENY


@functools.lru_cache(maxsize=1024)
def execution_policy(function_arn: str, document: str | None) -> Policy:
    """What a function's instances may do with their credentials: ``document`` (its
    ``StrumPermissions.Policy``), or by default invoke their own function - any version or
    alias of it - and nothing else, so ``@task`` works for every function."""
    if document is not None:
        return Policy.parse(document)
    return Policy.parse(
        {
            "Version": VERSIONS[0],
            "Statement": [
                {
                    "Sid": "InvokeSelfForTasks",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": [function_arn, f"{function_arn}:*"],
                },
                {
                    # What AWS's durable-execution SDK calls from inside the function, on
                    # the function's own executions (AWSLambdaBasicDurableExecutionRolePolicy).
                    "Sid": "CheckpointOwnDurableExecutions",
                    "Effect": "Allow",
                    "Action": [
                        "lambda:CheckpointDurableExecution",
                        "lambda:GetDurableExecutionState",
                    ],
                    "Resource": f"{function_arn}:*",
                },
            ],
        }
    )


@functools.lru_cache(maxsize=1024)
def resource_policy(statements: str) -> Policy:
    """A function's resource-based policy from its statements (JSON), parsed once."""
    return Policy.parse(
        {"Version": VERSIONS[0], "Statement": json.loads(statements)}, resource_based=True
    )


def _statement(raw: object, where: str, located: _Located, resource_based: bool) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError("a statement is a JSON object", field=where)

    def line(key: str) -> int | None:
        return located.line(raw, key)

    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyError("unknown key", line=line(unknown[0]), field=f"{where}.{unknown[0]}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(
            f"{effect!r}: Effect is 'Allow' or 'Deny'" if effect else "missing",
            line=line("Effect") or located.line(raw),
            field=f"{where}.Effect",
        )
    actions, not_action = _one_of(raw, "Action", "NotAction", where, located)
    for action in actions:
        if action != "*" and ":" not in action:
            raise PolicyError(
                f"{action!r} is not an action; write service:Action, e.g. lambda:InvokeFunction",
                line=line("NotAction" if not_action else "Action"),
                field=f"{where}.{'NotAction' if not_action else 'Action'}",
            )
    resources, not_resource = _one_of(raw, "Resource", "NotResource", where, located)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise PolicyError(
                f"{resource!r} is not an ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
                line=line("NotResource" if not_resource else "Resource"),
                field=f"{where}.{'NotResource' if not_resource else 'Resource'}",
            )
    principals, not_principal = None, False
    if "Principal" in raw or "NotPrincipal" in raw:
        if not resource_based:
            key = "Principal" if "Principal" in raw else "NotPrincipal"
            raise PolicyError(
                "an identity policy names no principal (it is the caller's own)",
                line=line(key),
                field=f"{where}.{key}",
            )
        not_principal = "NotPrincipal" in raw
        key = "NotPrincipal" if not_principal else "Principal"
        principals = _principals(raw[key], f"{where}.{key}", line(key))
    elif resource_based:
        raise PolicyError("a resource policy names its Principal", field=f"{where}.Principal")
    conditions = _conditions(raw.get("Condition"), where, line("Condition"))
    sid = raw.get("Sid", "")
    if not isinstance(sid, str):
        raise PolicyError("Sid is a string", line=line("Sid"), field=f"{where}.Sid")
    return Statement(
        effect=effect,
        actions=actions,
        resources=resources,
        not_action=not_action,
        not_resource=not_resource,
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
        sid=sid,
    )


def _one_of(
    raw: dict[str, Any], key: str, negated: str, where: str, located: _Located
) -> tuple[tuple[str, ...], bool]:
    if (key in raw) == (negated in raw):
        both = key in raw
        raise PolicyError(
            f"give {key} or {negated}, not both" if both else f"missing: give {key} or {negated}",
            line=located.line(raw, key) if both else located.line(raw),
            field=f"{where}.{key}",
        )
    name = key if key in raw else negated
    value = raw[name]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) and item for item in values):
        raise PolicyError(
            "a non-empty string or list of strings",
            line=located.line(raw, name),
            field=f"{where}.{name}",
        )
    return tuple(values), name == negated


def _principals(raw: object, where: str, line: int | None) -> Principals:
    if raw == "*":
        return Principals(anyone=True)
    if not isinstance(raw, dict) or not raw or set(raw) - {"AWS", "Service"}:
        raise PolicyError('"*" or {"AWS": ..., "Service": ...}', line=line, field=where)
    entries: dict[str, tuple[str, ...]] = {}
    for kind, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) and item for item in values):
            raise PolicyError("a string or a list of strings", line=line, field=f"{where}.{kind}")
        entries[kind] = tuple(values)
    return Principals(aws=entries.get("AWS", ()), services=entries.get("Service", ()))


def _conditions(raw: object, where: str, line: int | None) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PolicyError("an object of operator -> {key: values}", line=line, field=where)
    parsed = []
    for operator, keys in raw.items():
        if not isinstance(keys, dict) or not keys:
            raise PolicyError(
                "an object of condition key -> values",
                line=line,
                field=f"{where}.Condition.{operator}",
            )
        for key, values in keys.items():
            try:
                parsed.append(Condition.parse(operator, key, values))
            except ConditionError as exc:
                raise PolicyError(str(exc), line=line, field=f"{where}.Condition") from None
    return tuple(parsed)


def _assumed(role_arn: str, principal: str) -> bool:
    """``arn:aws:iam::<a>:role/<name>`` names ``arn:aws:sts::<a>:assumed-role/<name>/*``."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return False
    name = parts[5].rpartition("/")[2]
    return principal.startswith(f"arn:aws:sts::{parts[4]}:assumed-role/{name}/")


def _root_account(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) == 6 and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


class _Located:
    """JSON parsed with the offset of every object, so errors can name their line.

    The standard library's pure-Python scanner takes its object parser from the decoder,
    so wrapping that parser records where each object starts and ends.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: dict[int, tuple[int, int]] = {}
        self._keep: list[object] = []

    def load(self) -> object:
        # Untyped in typeshed: the scanner's hooks are attributes the decoder sets itself.
        decoder: Any = json.JSONDecoder()
        scanner: Any = json.scanner
        parse_object = decoder.parse_object

        def recording(state: tuple[str, int], *args: Any) -> tuple[object, int]:
            value, end = parse_object(state, *args)
            self._spans[id(value)] = (state[1] - 1, end)
            self._keep.append(value)
            return value, end

        decoder.parse_object = recording
        decoder.scan_once = scanner.py_make_scanner(decoder)
        begin = len(self.text) - len(self.text.lstrip())
        try:
            value, end = decoder.raw_decode(self.text, begin)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        if self.text[end:].strip():
            raise PolicyError(
                "extra data after the document", line=self.text.count("\n", 0, end) + 1
            )
        return value

    def line(self, obj: object, key: str | None = None) -> int | None:
        """The line an object starts on, or the line of one of its keys."""
        span = self._spans.get(id(obj))
        if span is None:
            return None
        start, end = span
        offset = start
        if key is not None:
            found = self.text.find(json.dumps(key), start, end)
            offset = found if found >= 0 else start
        return self.text.count("\n", 0, offset) + 1
