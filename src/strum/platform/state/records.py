"""The records the control plane keeps, and the pure helpers around them.

``FunctionRecord`` is one version of a function as stored (its configuration is the
AWS-shaped dict the API answers with), ``AliasRecord`` an alias; the SQLite schema and the
row converters live here too, so ``store`` holds only the code that touches the database.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.events import iso_millis
from strum.platform.errors import ResourceNotFound
from strum.platform.spec import FunctionSpec
from strum.platform.volumes import volume_name

LATEST = "$LATEST"

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    code_sha TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    last_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,
    code_sha TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    function_version TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    weights TEXT NOT NULL DEFAULT '{}',
    revision_id TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE IF NOT EXISTS concurrency (
    name TEXT PRIMARY KEY REFERENCES functions(name) ON DELETE CASCADE,
    reserved INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS url_configs (
    key TEXT PRIMARY KEY,
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier TEXT,
    auth_type TEXT NOT NULL,
    cors TEXT NOT NULL DEFAULT '{}',
    invoke_mode TEXT NOT NULL DEFAULT 'BUFFERED',
    port INTEGER,
    creation_time TEXT NOT NULL,
    last_modified_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_policies (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    statements TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
CREATE TABLE IF NOT EXISTS event_invoke_configs (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (name, qualifier)
);
"""

# Function names as the API accepts them: a name, a partial ARN ("123456789012:function:
# name") or a full ARN, each optionally followed by ":qualifier".
_FUNCTION_REFERENCE = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)


def parse_function_name(reference: str) -> tuple[str, str | None]:
    """Split ``name``, ``name:qualifier`` or an ARN into (name, qualifier or None).

    A reference that cannot name a function raises ``ResourceNotFound`` (the name cannot
    exist, which is what AWS answers for most malformed names).
    """
    match = _FUNCTION_REFERENCE.match(reference)
    if not match or len(match["name"]) > 64:
        raise ResourceNotFound(f"Function not found: {reference}")
    return match["name"], match["qualifier"]


def url_key(function_name: str, qualifier: str | None) -> str:
    """The key of a Function URL config: the function name, ``name:alias`` for an alias."""
    return f"{function_name}:{qualifier}" if qualifier else function_name


def now_timestamp() -> str:
    """AWS's ``LastModified`` format: ``2024-05-01T12:00:00.000+0000``."""
    return iso_millis(time.time(), "+0000")


@dataclass(frozen=True)
class FunctionRecord:
    """One version of one function as stored: ``version`` is "$LATEST" or a number."""

    name: str
    version: str
    config: dict[str, Any]
    code_sha: str
    code_size: int
    revision_id: str
    last_modified: str


@dataclass(frozen=True)
class AliasRecord:
    """An alias: a name for a version, optionally sending a share of traffic to another."""

    function_name: str
    name: str
    function_version: str
    description: str = ""
    weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = ""


def new_revision() -> str:
    return str(uuid.uuid4())


def same_config(left: dict[str, Any], right: dict[str, Any]) -> bool:
    def strip(config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if k != "Description"}

    return strip(left) == strip(right)


def record_from_row(row: sqlite3.Row, version: str) -> FunctionRecord:
    return FunctionRecord(
        name=row["name"],
        version=version,
        config=json.loads(row["config"]),
        code_sha=row["code_sha"],
        code_size=int(row["code_size"]),
        revision_id=row["revision_id"],
        last_modified=row["last_modified"],
    )


def alias_from_row(row: sqlite3.Row) -> AliasRecord:
    return AliasRecord(
        function_name=row["name"],
        name=row["alias"],
        function_version=row["function_version"],
        description=row["description"],
        weights=json.loads(row["weights"]),
        revision_id=row["revision_id"],
    )


def url_config_from_row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "key": row["key"],
        "function_name": row["function_name"],
        "qualifier": row["qualifier"],
        "auth_type": row["auth_type"],
        "cors": json.loads(row["cors"]),
        "invoke_mode": row["invoke_mode"],
        "port": row["port"],
        "creation_time": row["creation_time"],
        "last_modified_time": row["last_modified_time"],
    }


def function_spec(
    record: FunctionRecord,
    *,
    arn: str,
    code_dir: Path,
    opt_dir: Path | None = None,
    reserved_concurrency: int | None,
    region: str,
) -> FunctionSpec:
    """What the engine runs for ``record``: its configuration as a ``FunctionSpec``."""
    config = record.config
    variables = config.get("Environment", {}).get("Variables", {})
    return FunctionSpec(
        name=record.name,
        version=record.version,
        arn=arn,
        runtime=config.get("Runtime", ""),
        handler=config.get("Handler", ""),
        code_sha256=record.code_sha,
        code_dir=code_dir,
        opt_dir=opt_dir,
        memory_mb=int(config.get("MemorySize", 128)),
        timeout_s=int(config.get("Timeout", 3)),
        ephemeral_mb=int(config.get("EphemeralStorage", {}).get("Size", 512)),
        environment=tuple(sorted(variables.items())),
        reserved_concurrency=reserved_concurrency,
        region=region,
        config_revision=record.revision_id,
        volumes=tuple(
            (
                volume_name(entry["Arn"], region=region, account=arn.split(":")[4]),
                entry["LocalMountPath"],
            )
            for entry in config.get("FileSystemConfigs") or ()
        ),
        durable=_durable(config),
        **_permissions(config),
    )


def _durable(config: dict[str, Any]) -> tuple[int, int] | None:
    durable = config.get("DurableConfig")
    if not isinstance(durable, dict):
        return None
    return int(durable["ExecutionTimeout"]), int(durable["RetentionPeriodInDays"])


def _permissions(config: dict[str, Any]) -> dict[str, Any]:
    """The ``FunctionSpec`` fields of a configuration's ``StrumPermissions``."""
    permissions = config.get("StrumPermissions") or {}
    network = permissions.get("Network", False)
    return {
        "network": tuple(network) if isinstance(network, list) else bool(network),
        "files": tuple(permissions.get("Files", ())),
        "policy": json.dumps(permissions["Policy"]) if permissions.get("Policy") else None,
    }
