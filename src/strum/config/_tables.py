"""Checks of the nested tables: ``schedules``, ``events``, ``permissions`` and ``async``.

In a file each entry may be partial - a stage can override one field of an inherited
schedule (``enabled = false``) - so checking happens twice: here, field by field where the
value is written, and in ``build_schedule`` / ``build_event`` once the stage is merged,
for what needs the whole entry (required fields, fields that depend on ``source``).
"""

from __future__ import annotations

from types import MappingProxyType

from strum.config._checks import (
    ENV_NAME,
    IAM_ACTION,
    RULE_NAME,
    SOURCES,
    STREAMS,
    boolean,
    choice,
    integer,
    matches,
    string,
    string_list,
)
from strum.config._model import AsyncInvocation, EventSource, Permissions, Schedule
from strum.config._problems import INVALID, Invalid, Where, describe, quote, unknown_key
from strum.config._references import check_reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from strum.config._checks import Check

    Locate = Callable[..., Where]


def _expression(value: Any, where: Where) -> str:
    from strum.schedule import parse_expression

    text = string(value, where)
    try:
        parse_expression(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return text.strip()


def _function(what: str) -> Check:
    def check(value: Any, where: Where) -> str:
        return check_reference(string(value, where), where.project_dir, what)

    return check


def _arn(value: Any, where: Where) -> str:
    text = string(value, where)
    if not text.startswith("arn:"):
        raise Invalid(f'"{text}" is not an ARN; ARNs start with "arn:aws:"')
    return text


def _pattern(value: Any, where: Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(
            "must be a table (an EventBridge event pattern), e.g. "
            f'pattern = {{ source = ["my.app"] }}, not {describe(value)}'
        )
    return value


SCHEDULE_KEYS: dict[str, Check] = {
    "function": _function("function"),
    "expression": _expression,
    "enabled": boolean("enabled"),
}
EVENT_KEYS: dict[str, Check] = {
    "source": choice(*SOURCES),
    "function": _function("function"),
    "arn": _arn,
    "batch": choice("event", "record"),
    "enabled": boolean("enabled"),
    "batch_size": integer(1, 10000, "", "batch_size"),
    "batch_window": integer(0, 300, "seconds", "batch_window"),
    "starting_position": choice("LATEST", "TRIM_HORIZON"),
    "s3_events": string_list('"s3:ObjectCreated:*"', "s3_events"),
    "prefix": string,
    "suffix": string,
    "pattern": _pattern,
}
# Which sources each optional field applies to.
EVENT_FIELD_SOURCES = {
    "batch_size": STREAMS,
    "batch_window": STREAMS,
    "starting_position": ("kinesis", "dynamodb"),
    "s3_events": ("s3",),
    "prefix": ("s3",),
    "suffix": ("s3",),
    "pattern": ("eventbridge",),
}


def _entries(
    value: Any, where: Where, keys: dict[str, Check], example: str
) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise Invalid(f"must be a table of named entries, e.g. {example}")
    entries: dict[str, dict[str, Any]] = {}
    for name, entry in value.items():
        spot = where.at(name)
        if not matches(RULE_NAME, name):
            spot.report(f'"{name}" can only use letters, digits, ".", "-" and "_"')
            continue
        if not isinstance(entry, dict):
            spot.report(f"must be a table, not {describe(entry)}; e.g. {example}")
            continue
        entries[name] = check_table(entry, spot, keys)
    return entries


def check_table(table: dict[str, Any], where: Where, keys: dict[str, Check]) -> dict[str, Any]:
    """Check each key of ``table`` with its check in ``keys``; report unknown keys."""
    valid: dict[str, Any] = {}
    for key, value in table.items():
        spot = where.at(key)
        check = keys.get(key)
        if check is None:
            spot.report(unknown_key(key, list(keys)))
            continue
        try:
            valid[key] = check(value, spot)
        except Invalid as exc:
            spot.report(str(exc))
            valid[key] = INVALID
    return valid


def schedules(value: Any, where: Where) -> dict[str, dict[str, Any]]:
    """``[schedules]``: name -> partial entry."""
    example = 'nightly = { function = "jobs:cleanup", expression = "cron(0 3 * * ? *)" }'
    return _entries(value, where, SCHEDULE_KEYS, example)


def events(value: Any, where: Where) -> dict[str, dict[str, Any]]:
    """``[events]``: name -> partial entry."""
    example = 'orders = { source = "sqs", function = "jobs:handle_order" }'
    return _entries(value, where, EVENT_KEYS, example)


def build_schedule(name: str, entry: dict[str, Any], locate: Locate) -> Schedule | None:
    """The merged entry as a ``Schedule``, or ``None`` after reporting what is missing.

    ``locate(*keys)`` is where a field of the entry was written (``locate()``: the entry).
    """
    bad, entry = _split_invalid(entry)
    missing = [key for key in ("function", "expression") if key not in entry and key not in bad]
    if missing:
        example = 'function = "jobs:cleanup", expression = "rate(1 day)"'
        locate().report(_missing(missing, "schedule", example))
    if missing or bad:
        return None
    return Schedule(name, entry["function"], entry["expression"], entry.get("enabled", True))


def build_event(
    name: str, entry: dict[str, Any], locate: Locate, target: str
) -> EventSource | None:
    """The merged entry as an ``EventSource``, or ``None`` after reporting why not."""
    bad, entry = _split_invalid(entry)
    missing = [key for key in ("source", "function") if key not in entry and key not in bad]
    if missing:
        locate().report(_missing(missing, "event", 'source = "sqs", function = "jobs:handle"'))
    if "source" not in entry:
        return None
    source = entry["source"]
    ok = not (missing or bad)
    for key, sources in EVENT_FIELD_SOURCES.items():
        if key in entry and source not in sources:
            locate(key).report(
                f"{key} applies to {' and '.join(sources)} events, not {source}; remove it"
            )
            ok = False
    arn = entry.get("arn")
    service = SOURCES[source]
    if arn is not None and arn.split(":")[2:3] != [service]:
        locate("arn").report(
            f'"{arn}" is not an ARN of {source}; it should start with "arn:aws:{service}:"'
        )
        ok = False
    # Lambda's own shape by default: the handler gets the event (``event["Records"]``), as
    # on AWS with a hand-written handler; "record" is strum's one-record-per-call helper.
    batch = entry.get("batch", "event")
    if source == "eventbridge" and batch == "record":
        locate("batch").report('EventBridge events have no records; use batch = "event"')
        ok = False
    if target == "aws" and source == "eventbridge" and arn is None and "pattern" not in entry:
        locate().report(
            "EventBridge consumers on the AWS target need a pattern (which events) or the "
            'arn of a rule, e.g. pattern = { source = ["my.app"] }'
        )
        ok = False
    elif target == "aws" and source != "eventbridge" and arn is None:
        locate().report(
            f"{source} consumers on the AWS target need the arn of their {source} resource, "
            f'e.g. arn = "arn:aws:{service}:eu-west-1:123456789012:name"'
        )
        ok = False
    if not ok:
        return None
    position = entry.get("starting_position")
    if position is None and source in ("kinesis", "dynamodb"):
        position = "LATEST"
    pattern = entry.get("pattern")
    return EventSource(
        name=name,
        source=source,
        function=entry["function"],
        arn=arn,
        batch=batch,
        enabled=entry.get("enabled", True),
        batch_size=entry.get("batch_size"),
        batch_window=entry.get("batch_window"),
        starting_position=position,
        s3_events=entry.get("s3_events", ()),
        prefix=entry.get("prefix"),
        suffix=entry.get("suffix"),
        pattern=MappingProxyType(pattern) if pattern is not None else None,
    )


def _split_invalid(entry: dict[str, Any]) -> tuple[set[str], dict[str, Any]]:
    """The fields already reported as invalid, and the entry without them."""
    bad = {key for key, value in entry.items() if value is INVALID}
    return bad, {key: value for key, value in entry.items() if key not in bad}


def _missing(keys: list[str], kind: str, example: str) -> str:
    listed = " and ".join(keys)
    return f"{listed} {'is' if len(keys) == 1 else 'are'} missing; each {kind} needs both, " + (
        f"e.g. {{ {example} }}"
    )


# -- permissions (issue 8): shapes only --------------------------------------------------


def _network(value: Any, where: Where) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    items = string_list('"api.stripe.com:443"', "network")(value, where)
    valid = []
    for index, item in enumerate(items):
        host, colon, port = item.rpartition(":")
        if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            where.at(str(index)).report(
                f'"{item}" should be host:port, e.g. "api.stripe.com:443" (true allows any)'
            )
        else:
            valid.append(item)
    return tuple(valid)


def _env_names(value: Any, where: Where) -> tuple[str, ...]:
    items = string_list('"DATABASE_URL"', "env")(value, where)
    for index, item in enumerate(items):
        if not matches(ENV_NAME, item):
            where.at(str(index)).report(f"{quote(item)} is not an environment variable name")
    return tuple(item for item in items if matches(ENV_NAME, item))


def _files(value: Any, where: Where) -> tuple[str, ...]:
    items = string_list('"/etc/ssl/certs"', "files")(value, where)
    for index, item in enumerate(items):
        if not item.startswith(("/", "~")):
            where.at(str(index)).report(f'"{item}" should be an absolute path, e.g. "/srv/data"')
    return tuple(item for item in items if item.startswith(("/", "~")))


def _aws(value: Any, where: Where) -> tuple[str, ...]:
    items = string_list('"s3:GetObject arn:aws:s3:::my-bucket/*"', "aws")(value, where)
    valid = []
    for index, item in enumerate(items):
        parts = item.split()
        actions = parts[0].split(",") if parts else []
        if (
            len(parts) != 2
            or not all(matches(IAM_ACTION, action) for action in actions)
            or not (parts[1] == "*" or parts[1].startswith("arn:"))
        ):
            where.at(str(index)).report(
                f'"{item}" should be "service:Action[,service:Action] resource", e.g. '
                '"s3:GetObject arn:aws:s3:::my-bucket/*"'
            )
        else:
            valid.append(item)
    return tuple(valid)


PERMISSION_KEYS: dict[str, Check] = {
    "network": _network,
    "env": _env_names,
    "files": _files,
    "aws": _aws,
}


def _partial_table(keys: dict[str, Check], example: str) -> Check:
    """The check of a table a stage merges key by key (``permissions``, ``async``)."""

    def check(value: Any, where: Where) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(f"must be a table, e.g. {example}, not {describe(value)}")
        return check_table(value, where, keys)

    return check


# ``[permissions]``: a partial table, merged key by key across stages.
permissions = _partial_table(PERMISSION_KEYS, "permissions = { network = false }")


def build_permissions(table: dict[str, Any]) -> Permissions:
    """The merged permissions table as ``Permissions``."""
    return Permissions(**table)


# -- async: retries and destinations of asynchronous invocations --------------------------


def _destination(value: Any, where: Where) -> str:
    text = string(value, where).strip()
    if text.startswith("arn:"):
        service = text.split(":")[2] if text.count(":") >= 2 else ""
        if service not in ("lambda", "sqs", "sns", "events"):
            raise Invalid(
                f'"{text}" is a {service or "malformed"} ARN; a destination is a function '
                "name or the ARN of a Lambda function, SQS queue, SNS topic or EventBridge bus"
            )
        return text
    if not matches(r"[A-Za-z0-9_-]{1,64}", text):
        raise Invalid(
            f'"{text}" is neither a function name (letters, digits, "-" and "_") nor an ARN'
        )
    return text


ASYNC_KEYS: dict[str, Check] = {
    "retries": integer(0, 2, "", "retries"),
    "max_age": integer(60, 21600, "seconds", "max_age"),
    "on_success": _destination,
    "on_failure": _destination,
}


# ``[async]``: a partial table, merged key by key across stages.
async_invocation = _partial_table(ASYNC_KEYS, 'async = { retries = 0, on_failure = "failures" }')


def build_async(table: dict[str, Any], target: str, where: Locate) -> AsyncInvocation:
    """The merged ``async`` table; the local platform delivers to functions only."""
    if target == "local":
        for key in ("on_success", "on_failure"):
            arn = table.get(key)
            if isinstance(arn, str) and arn.startswith("arn:") and arn.split(":")[2] != "lambda":
                where("async", key).report(
                    f"the local platform sends records to functions only, not to {arn}; name a "
                    "function here, or set this destination in an AWS stage"
                )
                table = {k: v for k, v in table.items() if k != key}
    return AsyncInvocation(**table)
