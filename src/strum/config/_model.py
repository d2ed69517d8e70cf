"""The validated config, as frozen dataclasses. Built only by ``strum.config._load``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_STAGE = "dev"


@dataclass(frozen=True)
class Schedule:
    """One ``[tool.strum.schedules.<name>]`` entry: call ``function`` on ``expression``."""

    name: str
    function: str  # "module:attribute"
    expression: str  # "rate(5 minutes)" | "cron(0 3 * * ? *)"
    enabled: bool = True


@dataclass(frozen=True)
class EventSource:
    """One ``[tool.strum.events.<name>]`` entry: deliver ``source`` events to ``function``.

    ``batch = "event"`` (the default: Lambda's own shape) passes the whole event, records
    in ``event["Records"]``; ``"record"`` calls the function once per record (reporting SQS,
    Kinesis and DynamoDB partial batch failures). The optional fields only apply to the
    sources noted beside them.
    """

    name: str
    source: str  # sqs | sns | s3 | eventbridge | dynamodb | kinesis
    function: str
    arn: str | None = None
    batch: str = "event"
    enabled: bool = True
    batch_size: int | None = None  # sqs, kinesis, dynamodb
    batch_window: int | None = None  # seconds; sqs, kinesis, dynamodb
    starting_position: str | None = None  # kinesis, dynamodb: LATEST | TRIM_HORIZON
    s3_events: tuple[str, ...] = ()  # s3: "s3:ObjectCreated:*", ...
    prefix: str | None = None  # s3 key filter
    suffix: str | None = None  # s3 key filter
    pattern: Mapping[str, object] | None = None  # eventbridge event pattern


@dataclass(frozen=True)
class Permissions:
    """What a function may reach beyond its own code (issue 8); nothing by default.

    ``network`` is ``True`` (anything), ``False`` (nothing) or the ``host:port`` pairs
    allowed; ``env`` names host variables passed through; ``files`` are extra read-only
    paths; ``aws`` are IAM statements, ``"action[,action...] resource"``.
    """

    network: bool | tuple[str, ...] = False
    env: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    aws: tuple[str, ...] = ()


@dataclass(frozen=True)
class AsyncInvocation:
    """``[tool.strum.async]``: how asynchronous invocations of the stage are retried and
    where their outcomes go (a function name or a destination ARN). AWS's defaults."""

    retries: int = 2  # 0-2, after function errors
    max_age: int = 21600  # seconds, 60-21600: older events are given up on
    on_success: str | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class Durable:
    """``[tool.strum.durable]``: the stage's function is a Lambda durable function, whose
    executions may run ``execution_timeout`` seconds and are kept ``retention_days``."""

    execution_timeout: int = 86_400
    retention_days: int = 14


@dataclass(frozen=True)
class Volume:
    """One ``[tool.strum.volumes]`` entry: a persistent file system mounted at ``path``.

    On the local platform it is the platform's volume ``name``; on AWS the Amazon EFS
    access point ``efs`` (an AWS stage needs it, and a ``vpc``).
    """

    name: str
    path: str  # "/mnt/<dir>"
    efs: str | None = None


@dataclass(frozen=True)
class Vpc:
    """``vpc = { subnets = [...], security_groups = [...] }``: where an AWS function runs."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    """Every setting of one stage: the top-level keys with the stage's overrides applied.

    ``app`` is always ``"module:attribute"`` or ``None``; a Django project has
    ``django_settings`` instead (an ``app = "mysite.settings"`` in the file lands there).
    ``url`` defaults to true when there is an app to serve.
    """

    stage: str
    project: str
    python: str
    target: str = "local"
    app: str | None = None
    django_settings: str | None = None
    architecture: str = "x86_64"
    memory: int = 512
    timeout: int = 30
    ephemeral_storage: int = 512
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    text_mime_types: tuple[str, ...] = ()
    base_path: str | None = None
    lifespan: str = "auto"
    stream: bool = False
    # AWS: SnapStart on published versions (python 3.12+); the platform always forks
    # initialised templates, so there it changes nothing.
    snap_start: bool = False
    schedules: Mapping[str, Schedule] = field(default_factory=lambda: MappingProxyType({}))
    events: Mapping[str, EventSource] = field(default_factory=lambda: MappingProxyType({}))
    permissions: Permissions = field(default_factory=Permissions)
    async_invocation: AsyncInvocation = field(default_factory=AsyncInvocation)
    reserved_concurrency: int | None = None
    url: bool = False
    # A path the deploy GETs through the new version before the alias moves: under 500 or
    # the deploy fails (``[tool.strum] check = "/healthz"``).
    check: str | None = None
    log_retention_days: int | None = None
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    http_api: bool = False
    domain: str | None = None
    bucket: str | None = None  # AWS: where packages over 50 MB go (else strum's own bucket)
    volumes: tuple[Volume, ...] = ()  # at most one: Lambda mounts one file system
    vpc: Vpc | None = None  # AWS only
    durable: Durable | None = None  # a durable function (DurableConfig) on both targets

    @property
    def function_name(self) -> str:
        """The Lambda function this stage deploys: ``<project>-<stage>``."""
        return f"{self.project}-{self.stage}"


@dataclass(frozen=True, kw_only=True)
class ProjectConfig(StageConfig):
    """What ``load_config`` returns: the chosen stage's settings and where they came from.

    The inherited fields are the chosen stage's (so ``config.memory`` is what that stage
    deploys with); ``stages`` holds every stage the file defines, resolved the same way,
    plus the implicit ``dev`` stage.
    """

    project_dir: Path
    source: Path  # the pyproject.toml or strum.toml the settings came from
    stages: Mapping[str, StageConfig] = field(default_factory=lambda: MappingProxyType({}))
