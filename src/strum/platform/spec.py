"""What to run and what came out: the records the platform's layers pass each other.

``state`` builds a ``FunctionSpec`` for the exact version being invoked, ``engine`` runs it
and answers with an ``InvokeResult``. Both live here, below both, because neither of those
packages may import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FunctionSpec", "InvokeResult"]


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the engine needs to run one version of one function.

    ``version`` is "$LATEST" or a published number as text. ``code_dir`` is the unpacked,
    read-only package. Two specs with equal ``instance_key`` can share warm instances;
    any change of code or configuration changes the key, so stale instances are never used.
    """

    name: str
    version: str
    arn: str
    runtime: str  # "python3.12", "provided.al2023", ...
    handler: str
    code_sha256: str  # hex digest of the zip
    code_dir: Path
    # The function's layers, extracted in order into one read-only directory (``/opt`` in
    # the sandbox); None without layers.
    opt_dir: Path | None = None
    memory_mb: int = 128
    timeout_s: int = 3
    ephemeral_mb: int = 512
    environment: tuple[tuple[str, str], ...] = ()
    reserved_concurrency: int | None = None
    region: str = "us-east-1"
    config_revision: str = ""  # changes whenever the configuration changes
    # Declared permissions (``[tool.strum.permissions]``): False keeps the instance off the
    # network; True or "host:port" pairs let it on. ``files`` are extra read-only paths.
    network: bool | tuple[str, ...] = False
    files: tuple[str, ...] = ()
    # FileSystemConfigs: (volume name, LocalMountPath) pairs, mounted read-write.
    volumes: tuple[tuple[str, str], ...] = ()
    # The execution policy of the function's instances (IAM JSON, ``StrumPermissions.Policy``);
    # None: they may invoke their own function and nothing else.
    policy: str | None = None
    # DurableConfig: (ExecutionTimeout seconds, RetentionPeriodInDays); None: not durable.
    durable: tuple[int, int] | None = None

    @property
    def instance_key(self) -> tuple[str, str, str, str]:
        return (self.name, self.version, self.code_sha256, self.config_revision)


@dataclass
class InvokeResult:
    """The outcome of one synchronous invocation, in the terms the Invoke API answers in.

    ``function_error`` is None on success, "Unhandled" for a function error (the payload is
    then the error document). ``log_tail`` holds the last 4 KB of the invocation's log
    when it was asked for.
    """

    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_tail: str | None = None
    content_type: str = "application/json"
    streamed: bool = False
    headers: dict[str, str] = field(default_factory=dict)
