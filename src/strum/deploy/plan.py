"""Deploy planning: desired state vs current state -> the steps that close the gap.

Pure: no I/O. ``plan_deploy`` returns a list of frozen step records; an empty list means
the deployment is already what the config asks for. ``--dry-run`` prints the steps;
``strum.deploy.execute`` is the only code that carries them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DesiredFunction:
    """What one stage's function should be, from the config and the built package."""

    name: str
    alias: str
    runtime: str
    code_sha256: str  # base64, as Lambda reports CodeSha256
    zip_path: Path
    memory: int = 512
    timeout: int = 30
    ephemeral_storage: int = 512
    # Out of repr: a step printed or logged with %r must not carry the secrets in it.
    environment: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    handler: str = "strum.runtime.entry.handler"
    url: bool = True
    invoke_mode: str = "BUFFERED"
    reserved_concurrency: int | None = None
    description: str = ""
    # Schedule rules on the stage's alias: (rule name, expression, enabled), by name.
    schedules: tuple[tuple[str, str, bool], ...] = ()
    # Async invocations of the alias: (retries, max age s, on-success ARN, on-failure ARN);
    # None means AWS's defaults, with no event-invoke config stored.
    event_invoke: tuple[int, int, str | None, str | None] | None = None
    # The local platform enforces permissions itself: its sandbox reads (network, files)
    # from strum's StrumPermissions configuration field. Lambda's API still requires a
    # role, so local functions name a placeholder.
    role: str = "arn:aws:iam::000000000000:role/strum-local"
    permissions: tuple[bool | tuple[str, ...], tuple[str, ...]] = (False, ())

    def configuration(self) -> dict[str, Any]:
        """The Lambda configuration fields strum manages."""
        return {
            "Runtime": self.runtime,
            "Handler": self.handler,
            "MemorySize": self.memory,
            "Timeout": self.timeout,
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "Environment": {"Variables": dict(self.environment)},
            "Description": self.description,
            "StrumPermissions": self.permissions_document(),
        }

    def permissions_document(self) -> dict[str, Any]:
        network, files = self.permissions
        return {
            "Network": list(network) if isinstance(network, tuple) else network,
            "Files": list(files),
        }


@dataclass(frozen=True)
class CurrentFunction:
    """What exists now (None: absent). ``aliased`` is the configuration of the alias's version."""

    latest: dict[str, Any] | None = None
    alias: dict[str, Any] | None = None
    aliased: dict[str, Any] | None = None
    url: dict[str, Any] | None = None
    reserved_concurrency: int | None = None
    schedules: tuple[tuple[str, str, bool], ...] = ()
    event_invoke: tuple[int, int, str | None, str | None] | None = None


@dataclass(frozen=True)
class Step:
    """One change. ``describe()`` is what ``--dry-run`` and progress output show."""

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateFunction(Step):
    desired: DesiredFunction

    def describe(self) -> str:
        return f"create function {self.desired.name} ({self.desired.runtime}, {self.desired.memory} MB)"


@dataclass(frozen=True)
class UpdateCode(Step):
    desired: DesiredFunction

    def describe(self) -> str:
        return f"upload new code for {self.desired.name} ({self.desired.code_sha256[:12]})"


@dataclass(frozen=True)
class UpdateConfiguration(Step):
    desired: DesiredFunction
    changes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        return f"update configuration of {self.desired.name}: {', '.join(self.changes)}"


@dataclass(frozen=True)
class PublishVersion(Step):
    desired: DesiredFunction

    def describe(self) -> str:
        return f"publish a new version of {self.desired.name}"


@dataclass(frozen=True)
class PointAlias(Step):
    """Create the stage's alias, or move it, to the version just published."""

    desired: DesiredFunction
    exists: bool

    def describe(self) -> str:
        verb = "move" if self.exists else "create"
        return f"{verb} alias {self.desired.alias} to the new version"


@dataclass(frozen=True)
class EnsureUrl(Step):
    desired: DesiredFunction
    exists: bool

    def describe(self) -> str:
        verb = "update" if self.exists else "create"
        return f"{verb} the function URL of {self.desired.name}:{self.desired.alias} ({self.desired.invoke_mode})"


@dataclass(frozen=True)
class RemoveUrl(Step):
    desired: DesiredFunction

    def describe(self) -> str:
        return f"remove the function URL of {self.desired.name}:{self.desired.alias}"


@dataclass(frozen=True)
class SetConcurrency(Step):
    desired: DesiredFunction

    def describe(self) -> str:
        if self.desired.reserved_concurrency is None:
            return f"remove reserved concurrency of {self.desired.name}"
        return f"reserve {self.desired.reserved_concurrency} concurrent executions for {self.desired.name}"


@dataclass(frozen=True)
class SyncSchedules(Step):
    """Replace the function's schedule rules with the desired ones."""

    desired: DesiredFunction

    def describe(self) -> str:
        count = len(self.desired.schedules)
        if not count:
            return f"remove the schedules of {self.desired.name}"
        return f"set {count} schedule(s) of {self.desired.name}:{self.desired.alias}"


@dataclass(frozen=True)
class SetEventInvokeConfig(Step):
    """Put (or, back to the defaults, delete) the alias's event-invoke config."""

    desired: DesiredFunction

    def describe(self) -> str:
        target = f"{self.desired.name}:{self.desired.alias}"
        if self.desired.event_invoke is None:
            return f"reset async retries and destinations of {target} to the defaults"
        retries, max_age, on_success, on_failure = self.desired.event_invoke
        extra = "".join(
            f", {label} -> {arn.rsplit(':', 1)[-1]}"
            for label, arn in (("on success", on_success), ("on failure", on_failure))
            if arn
        )
        return f"set async invocation of {target}: {retries} retries, max age {max_age} s{extra}"


def configuration_changes(
    current: dict[str, Any] | None, desired: DesiredFunction
) -> tuple[str, ...]:
    """Names of the managed configuration fields that differ."""
    return changed_fields(desired.configuration(), current)


def changed_fields(wanted: dict[str, Any], current: dict[str, Any] | None) -> tuple[str, ...]:
    """The keys of ``wanted`` (managed configuration fields) that ``current`` - a function
    configuration as Lambda reports it, or None - does not match. Both targets' planners
    compare through it; Lambda leaves out or nulls fields at their defaults."""
    if current is None:
        return tuple(wanted)
    reported = {
        "Role": current.get("Role"),
        "Runtime": current.get("Runtime"),
        "Handler": current.get("Handler"),
        "MemorySize": current.get("MemorySize"),
        "Timeout": current.get("Timeout"),
        "EphemeralStorage": {"Size": (current.get("EphemeralStorage") or {}).get("Size", 512)},
        "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}},
        "Description": current.get("Description") or "",
        "Layers": [layer["Arn"] for layer in current.get("Layers") or ()],
        "StrumPermissions": current.get("StrumPermissions") or {"Network": False, "Files": []},
    }
    return tuple(key for key, value in wanted.items() if reported[key] != value)


def plan_deploy(desired: DesiredFunction, current: CurrentFunction) -> list[Step]:
    """The steps that make ``current`` what ``desired`` says, in order; [] when in step."""
    steps: list[Step] = []
    if current.latest is None:
        steps.append(CreateFunction(desired))
    else:
        if current.latest.get("CodeSha256") != desired.code_sha256:
            steps.append(UpdateCode(desired))
        changes = configuration_changes(current.latest, desired)
        if changes:
            steps.append(UpdateConfiguration(desired, changes))
    serving_ok = (
        current.alias is not None
        and current.aliased is not None
        and current.aliased.get("CodeSha256") == desired.code_sha256
        and not configuration_changes(current.aliased, desired)
    )
    if not serving_ok:
        steps.append(PublishVersion(desired))
        steps.append(PointAlias(desired, exists=current.alias is not None))
    if desired.url:
        if current.url is None or current.url.get("InvokeMode", "BUFFERED") != desired.invoke_mode:
            steps.append(EnsureUrl(desired, exists=current.url is not None))
    elif current.url is not None:
        steps.append(RemoveUrl(desired))
    if current.reserved_concurrency != desired.reserved_concurrency:
        steps.append(SetConcurrency(desired))
    if current.event_invoke != desired.event_invoke:
        steps.append(SetEventInvokeConfig(desired))
    # Last: a rule may fire at once, and the alias it invokes must serve the new version.
    if sorted(current.schedules) != sorted(desired.schedules):
        steps.append(SyncSchedules(desired))
    return steps
