"""Amazon Resource Names as the platform hands them out and reads them back, in one place.

An ARN carries a partition, a region and an account. Like AWS, the platform answers in
the region the caller signed its request for (the SigV4 credential scope) and in the
caller's account: ``Scope`` is that pair. The access middleware makes the caller's scope
the current one for the rest of its request (``scoped``); everything that builds an ARN
asks ``current(default)``, where ``default`` is the platform's own region and account -
what work outside any request (async deliveries, schedules, unsigned Function URL calls)
answers with. Every kind of ARN the platform makes is a method of ``Scope``
(``scope.function(name)``, ``scope.layer(name, version)``...), so none is spelled twice.

``parse`` reads one back; ``foreign`` says why an incoming one names a resource outside
the caller's reach (another account, another region) in AWS's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Arn", "Scope", "current", "parse", "scoped"]


@dataclass(frozen=True)
class Scope:
    """Where ARNs point: a region and an account (12 digits) in a partition."""

    region: str
    account: str
    partition: str = "aws"

    def _arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    def function(self, name: str, qualifier: str | None = None) -> str:
        """``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]``."""
        resource = f"function:{name}:{qualifier}" if qualifier else f"function:{name}"
        return self._arn("lambda", resource)

    def layer(self, name: str, version: int | str | None = None) -> str:
        """``arn:aws:lambda:<region>:<account>:layer:<name>[:<version>]``."""
        resource = f"layer:{name}:{version}" if version is not None else f"layer:{name}"
        return self._arn("lambda", resource)

    def code_signing_config(self, config_id: str) -> str:
        """``arn:aws:lambda:<region>:<account>:code-signing-config:<id>``."""
        return self._arn("lambda", f"code-signing-config:{config_id}")

    def log_group(self, function_name: str) -> str:
        """The ARN of a function's log group, ``/aws/lambda/<name>``."""
        return self._arn("logs", f"log-group:/aws/lambda/{function_name}")

    def role(self, name: str) -> str:
        """An IAM role's ARN (IAM is global: no region)."""
        return self._arn("iam", f"role/{name}", region="")

    def root(self) -> str:
        """The account's root principal (the owner key signs as it)."""
        return self._arn("iam", "root", region="")

    def user(self, name: str) -> str:
        """An IAM user's ARN (a named key of the platform signs as one)."""
        return self._arn("iam", f"user/{name}", region="")

    def assumed_role(self, role: str, session: str) -> str:
        """A session of a role, as STS names it (a function instance's identity)."""
        return self._arn("sts", f"assumed-role/{role}/{session}", region="")

    def rule(self, name: str) -> str:
        """An EventBridge rule's ARN (what a schedule's events name as their resource)."""
        return self._arn("events", f"rule/{name}")

    def runtime_version(self, version_id: str) -> str:
        """A runtime version's ARN: AWS's own, in the region, with no account."""
        return f"arn:{self.partition}:lambda:{self.region}::runtime:{version_id}"


@dataclass(frozen=True)
class Arn:
    """An ARN split into its six parts."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse(text: str) -> Arn | None:
    """``text`` as an ``Arn``; None when it is not one."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


_CURRENT: ContextVar[Scope | None] = ContextVar("strum_arn_scope", default=None)


def current(default: Scope) -> Scope:
    """The scope of the request being answered, or ``default`` outside of one."""
    scope = _CURRENT.get()
    return default if scope is None else scope


@contextmanager
def scoped(scope: Scope) -> Iterator[Scope]:
    """Make ``scope`` the current one for the code run inside (one request's handling)."""
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
