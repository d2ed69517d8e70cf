"""Planning a local deploy: the function the platform should have vs what it has -> steps.

Pure: no I/O. ``plan_deploy`` composes the shared planner (``strum.deploy.steps``) with the
steps only the platform has: ``PublishLayer`` (the project's dependencies, published once
per content: a version with the same content is reused) and ``SyncSchedules`` (its
schedule rules live beside the function); ``strum.deploy.local.execute`` carries them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.deploy.steps import (
    Step,
    durable_config,
    place_url_steps,
    plan_alias,
    plan_concurrency,
    plan_event_invoke,
    plan_latest,
    plan_url,
    with_init_check,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.deploy.stage import EventInvoke

# Where the configuration names the layer version a deploy is about to publish.
PENDING_LAYER = "(the layer version this deploy publishes)"


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
    # The project the package was built from: error messages point into it.
    project: Path | None = None
    # A path the new version must answer a GET to under 500 before the alias moves.
    check: str | None = None
    # Schedule rules on the stage's alias: (rule name, expression, enabled), by name.
    schedules: tuple[tuple[str, str, bool], ...] = ()
    # Async invocations of the alias: (retries, max age s, on-success ARN, on-failure ARN);
    # None means AWS's defaults, with no event-invoke config stored.
    event_invoke: EventInvoke | None = None
    # The local platform enforces permissions itself: its sandbox reads (network, files)
    # from strum's StrumPermissions configuration field. Lambda's API still requires a
    # role, so local functions name a placeholder.
    role: str = "arn:aws:iam::000000000000:role/strum-local"
    # (network, files, execution policy): None as the policy keeps the platform's default.
    permissions: tuple[bool | tuple[str, ...], tuple[str, ...], dict[str, Any] | None] = (
        False,
        (),
        None,
    )
    # The project's dependency layer: its name, zip, and the marker its versions carry in
    # their description (the zip's SHA-256), or None for a project without dependencies.
    layer_name: str | None = None
    layer_zip: Path | None = None
    layer_marker: str = ""
    layer_sha256: str | None = None  # hex
    # The version of the layer with this content, when the platform already has one.
    layer_arn: str | None = None

    # FileSystemConfigs: (the volume's ARN on the platform, its mount path).
    file_systems: tuple[tuple[str, str], ...] = ()
    # DurableConfig: (ExecutionTimeout seconds, RetentionPeriodInDays); None: not durable.
    durable: tuple[int, int] | None = None

    @property
    def architecture(self) -> str | None:
        """None: the platform runs functions on the host's architecture."""
        return None

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
            "FileSystemConfigs": [
                {"Arn": arn, "LocalMountPath": path} for arn, path in self.file_systems
            ],
            "Layers": [self.layer_arn or PENDING_LAYER] if self.layer_name else [],
            **durable_config(self.durable),
        }

    def permissions_document(self) -> dict[str, Any]:
        """The ``StrumPermissions`` field the platform's sandbox reads."""
        network, files, policy = self.permissions
        document: dict[str, Any] = {
            "Network": list(network) if isinstance(network, tuple) else network,
            "Files": list(files),
        }
        if policy is not None:
            document["Policy"] = policy
        return document

    def code_summary(self) -> str:
        return self.code_sha256[:12]

    def url_summary(self) -> str:
        return f"the function URL of {self.name}:{self.alias} ({self.invoke_mode})"

    def event_invoke_summary(self) -> str:
        retries, max_age, on_success, on_failure = self.event_invoke or (2, 21600, None, None)
        extra = "".join(
            f", {label} -> {arn.rsplit(':', 1)[-1]}"
            for label, arn in (("on success", on_success), ("on failure", on_failure))
            if arn
        )
        return f"{retries} retries, max age {max_age} s{extra}"


@dataclass(frozen=True)
class CurrentFunction:
    """What exists now (None: absent). ``aliased`` is the configuration of the alias's version."""

    latest: dict[str, Any] | None = None
    alias: dict[str, Any] | None = None
    aliased: dict[str, Any] | None = None
    url: dict[str, Any] | None = None
    reserved_concurrency: int | None = None
    schedules: tuple[tuple[str, str, bool], ...] = ()
    event_invoke: EventInvoke | None = None


@dataclass(frozen=True)
class PublishLayer(Step):
    """Publish the project's dependencies as a new version of its layer (none has them)."""

    desired: DesiredFunction

    def describe(self) -> str:
        zip_path = self.desired.layer_zip
        size = zip_path.stat().st_size / 1e6 if zip_path is not None else 0.0
        return f"publish dependency layer {self.desired.layer_name} ({size:.1f} MB, new content)"


@dataclass(frozen=True)
class SyncSchedules(Step):
    """Replace the function's schedule rules with the desired ones."""

    desired: DesiredFunction

    def describe(self) -> str:
        count = len(self.desired.schedules)
        if not count:
            return f"remove the schedules of {self.desired.name}"
        return f"set {count} schedule(s) of {self.desired.name}:{self.desired.alias}"


def plan_deploy(desired: DesiredFunction, current: CurrentFunction) -> list[Step]:
    """The steps that make ``current`` what ``desired`` says, in order; [] when in step."""
    configuration = desired.configuration()
    steps: list[Step] = []
    if desired.layer_name and desired.layer_arn is None:
        steps.append(PublishLayer(desired))
    steps += plan_latest(desired, current.latest, configuration)
    serving = (current.alias or {}).get("FunctionVersion")
    steps += with_init_check(
        plan_alias(desired, current.alias, current.aliased, configuration),
        serving,
        desired.check,
    )
    steps, url_steps = place_url_steps(desired, current.url, steps, plan_url(desired, current.url))
    steps += url_steps
    steps += plan_concurrency(desired, current.reserved_concurrency)
    steps += plan_event_invoke(desired, current.event_invoke)
    # Last: a rule may fire at once, and the alias it invokes must serve the new version.
    if sorted(current.schedules) != sorted(desired.schedules):
        steps.append(SyncSchedules(desired))
    return steps
