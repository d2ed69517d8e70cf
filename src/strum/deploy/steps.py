"""The steps both targets plan for a stage's function, and the one planner that picks them.

Pure: no I/O, no client. A step is a frozen record that can ``describe()`` itself (what
``--dry-run`` and the progress output show); each target's executor carries steps out, and
an empty plan means the function is already what the config asks for.

Both targets describe their function through ``FunctionSpec`` - the local target's
``DesiredFunction`` and the AWS target's ``DesiredStage`` - and compose their plans from the
``plan_*`` functions here, adding the steps only they have (schedules on the platform; roles,
layers, HTTP APIs and event sources on AWS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.deploy.stage import EventInvoke


class FunctionSpec(Protocol):
    """What a target's desired function says that the shared steps and planner read."""

    @property
    def name(self) -> str:
        """The function's name: ``<project>-<stage>``."""

    @property
    def alias(self) -> str:
        """The stage's alias: the stage name."""

    @property
    def runtime(self) -> str: ...

    @property
    def memory(self) -> int: ...

    @property
    def code_sha256(self) -> str:
        """The package's SHA-256, base64, as Lambda reports ``CodeSha256``."""

    @property
    def architecture(self) -> str | None:
        """The instruction set, or None where the target runs the host's."""

    @property
    def reserved_concurrency(self) -> int | None: ...

    @property
    def url(self) -> bool:
        """Whether the alias has a function URL."""

    @property
    def invoke_mode(self) -> str:
        """``BUFFERED`` or ``RESPONSE_STREAM``."""

    @property
    def event_invoke(self) -> EventInvoke | None:
        """The alias's async settings; None: AWS's defaults, with no config stored."""

    def code_summary(self) -> str:
        """How progress output names the code being uploaded (a hash, a size)."""

    def url_summary(self) -> str:
        """How progress output names the alias's function URL."""

    def event_invoke_summary(self) -> str:
        """How progress output describes ``event_invoke`` (which is not None)."""


@dataclass(frozen=True)
class Step:
    """One change. ``describe()`` is what ``--dry-run`` and progress output show."""

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateFunction(Step):
    desired: FunctionSpec

    def describe(self) -> str:
        d = self.desired
        shape = [d.runtime] + ([d.architecture] if d.architecture else []) + [f"{d.memory} MB"]
        return f"create function {d.name} ({', '.join(shape)})"


@dataclass(frozen=True)
class UpdateCode(Step):
    desired: FunctionSpec
    architecture_changed: bool = False

    def describe(self) -> str:
        d = self.desired
        extra = f" for {d.architecture}" if self.architecture_changed else ""
        return f"upload new code for {d.name}{extra} ({d.code_summary()})"


@dataclass(frozen=True)
class UpdateConfiguration(Step):
    desired: FunctionSpec
    changes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        return f"update configuration of {self.desired.name}: {', '.join(self.changes)}"


@dataclass(frozen=True)
class PublishVersion(Step):
    desired: FunctionSpec

    def describe(self) -> str:
        return f"publish a new version of {self.desired.name}"


@dataclass(frozen=True)
class CheckVersion(Step):
    """Start the version just published and let it initialise (import the app, run its
    module-level code) before anything serves it; a failure stops the deploy there.
    ``serving`` is the version the stage's alias serves meanwhile (None: none yet);
    ``check`` a path the new version must then answer a GET to with a status under 500."""

    desired: FunctionSpec
    serving: str | None = None
    check: str | None = None

    def describe(self) -> str:
        also = f", then answer GET {self.check} under 500" if self.check else ""
        return f"start the new version of {self.desired.name} (it must initialise{also})"


@dataclass(frozen=True)
class PointAlias(Step):
    """Create the stage's alias, or move it, to the version just published."""

    desired: FunctionSpec
    exists: bool

    def describe(self) -> str:
        verb = "move" if self.exists else "create"
        return f"{verb} alias {self.desired.alias} to the new version"


@dataclass(frozen=True)
class EnsureUrl(Step):
    desired: FunctionSpec
    exists: bool

    def describe(self) -> str:
        verb = "update" if self.exists else "create"
        return f"{verb} {self.desired.url_summary()}"


@dataclass(frozen=True)
class RemoveUrl(Step):
    desired: FunctionSpec

    def describe(self) -> str:
        return f"remove the function URL of {self.desired.name}:{self.desired.alias}"


@dataclass(frozen=True)
class SetConcurrency(Step):
    desired: FunctionSpec

    def describe(self) -> str:
        reserved = self.desired.reserved_concurrency
        if reserved is None:
            return f"remove reserved concurrency of {self.desired.name}"
        return f"reserve {reserved} concurrent executions for {self.desired.name}"


@dataclass(frozen=True)
class SetEventInvokeConfig(Step):
    """Put (or, back to the defaults, delete) the alias's event-invoke config."""

    desired: FunctionSpec

    def describe(self) -> str:
        target = f"{self.desired.name}:{self.desired.alias}"
        if self.desired.event_invoke is None:
            return f"reset async retries and destinations of {target} to the defaults"
        return f"set async invocation of {target}: {self.desired.event_invoke_summary()}"


def durable_config(durable: tuple[int, int] | None) -> dict[str, Any]:
    """The ``DurableConfig`` field of a configuration, for a durable function only."""
    if durable is None:
        return {}
    timeout, retention = durable
    return {"DurableConfig": {"ExecutionTimeout": timeout, "RetentionPeriodInDays": retention}}


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
        "FileSystemConfigs": [
            {"Arn": entry.get("Arn"), "LocalMountPath": entry.get("LocalMountPath")}
            for entry in current.get("FileSystemConfigs") or ()
        ],
        "DurableConfig": {
            key: value
            for key, value in (current.get("DurableConfig") or {}).items()
            if key in ("ExecutionTimeout", "RetentionPeriodInDays")
        },
        "SnapStart": {"ApplyOn": (current.get("SnapStart") or {}).get("ApplyOn") or "None"},
        "VpcConfig": {
            "SubnetIds": list((current.get("VpcConfig") or {}).get("SubnetIds") or ()),
            "SecurityGroupIds": list(
                (current.get("VpcConfig") or {}).get("SecurityGroupIds") or ()
            ),
        },
    }
    return tuple(key for key, value in wanted.items() if reported[key] != value)


def _architecture(configuration: dict[str, Any]) -> str:
    return str((configuration.get("Architectures") or ["x86_64"])[0])


def _same_architecture(configuration: dict[str, Any], desired: FunctionSpec) -> bool:
    return desired.architecture is None or _architecture(configuration) == desired.architecture


def plan_latest(
    desired: FunctionSpec, latest: dict[str, Any] | None, configuration: dict[str, Any]
) -> list[Step]:
    """Create ``$LATEST``, or bring its code and ``configuration`` up to date."""
    if latest is None:
        return [CreateFunction(desired)]
    steps: list[Step] = []
    moved = not _same_architecture(latest, desired)
    if latest.get("CodeSha256") != desired.code_sha256 or moved:
        steps.append(UpdateCode(desired, moved))
    changes = changed_fields(configuration, latest)
    if changes:
        steps.append(UpdateConfiguration(desired, changes))
    return steps


def plan_alias(
    desired: FunctionSpec,
    alias: dict[str, Any] | None,
    aliased: dict[str, Any] | None,
    configuration: dict[str, Any],
) -> list[Step]:
    """Publish and point the alias at a new version unless the one it serves (``aliased``,
    its configuration) already is what ``desired`` says."""
    serving_ok = (
        alias is not None
        and aliased is not None
        and aliased.get("CodeSha256") == desired.code_sha256
        and _same_architecture(aliased, desired)
        and not changed_fields(configuration, aliased)
    )
    if serving_ok:
        return []
    return [PublishVersion(desired), PointAlias(desired, exists=alias is not None)]


def plan_url(desired: FunctionSpec, url: dict[str, Any] | None) -> list[Step]:
    """Create, change the mode of, or remove the alias's function URL."""
    if desired.url:
        mode = str((url or {}).get("InvokeMode") or "BUFFERED").upper()
        if url is None or mode != desired.invoke_mode:
            return [EnsureUrl(desired, exists=url is not None)]
        return []
    return [RemoveUrl(desired)] if url is not None else []


def place_url_steps(
    desired: FunctionSpec, url: dict[str, Any] | None, steps: list[Step], url_steps: list[Step]
) -> tuple[list[Step], list[Step]]:
    """Where a URL's mode change goes: (``steps`` with it, what is left to place later).

    Onto a buffered version, an existing URL turns BUFFERED just before the alias moves
    (after the new version was checked): in the moment between the two calls a request
    gets a 502 from the streamed version, never the buffered version's envelope served raw
    as a 200 by a RESPONSE_STREAM URL. Onto a streamed version the URL changes after the
    alias moved, for the same reason; it is left to the caller to place.
    """
    moving = [i for i, step in enumerate(steps) if isinstance(step, PointAlias)]
    if not moving or url is None or not url_steps or desired.invoke_mode != "BUFFERED":
        return steps, url_steps
    placed = list(steps)
    placed[moving[0] : moving[0]] = url_steps
    return placed, []


def plan_concurrency(desired: FunctionSpec, reserved: int | None) -> list[Step]:
    """Set or remove the function's reserved concurrency when it differs."""
    return [SetConcurrency(desired)] if reserved != desired.reserved_concurrency else []


def plan_event_invoke(desired: FunctionSpec, current: EventInvoke | None) -> list[Step]:
    """Put or reset the alias's async settings when they differ."""
    return [SetEventInvokeConfig(desired)] if current != desired.event_invoke else []


def with_init_check(steps: list[Step], serving: str | None, check: str | None = None) -> list[Step]:
    """``steps`` with a ``CheckVersion`` between publishing a version and pointing the
    alias at it, so a version that cannot start (or fails its ``check``) never serves."""
    checked: list[Step] = []
    for step in steps:
        checked.append(step)
        if isinstance(step, PublishVersion):
            checked.append(CheckVersion(step.desired, serving, check))
    return checked
