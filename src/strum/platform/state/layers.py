"""Lambda layers: versions of shared content a function mounts at ``/opt``.

A layer version is a zip in the ``CodeStore`` (content-addressed, unpacked once) plus the
row here that names it: ``<layer name>:<version>``, its compatible runtimes and
architectures, description, licence and resource policy. As on AWS, version numbers grow
per layer name and are never reused, not even after every version was deleted; a deleted
version can no longer be added to a function, but the functions that already use it keep
it (its row stays, marked deleted, while any function or version names it).

Functions keep the layers they use in their configuration (``Layers: [{"Arn",
"CodeSize"}]``), so a published version's layer set is as immutable as the rest of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strum.platform import arns
from strum.platform.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceNotFound,
    model_error,
)
from strum.platform.state.codestore import MAX_UNZIPPED_BYTES, StoredCode, code_sha256
from strum.platform.state.records import new_revision, now_timestamp
from strum.platform.state.store import Store

__all__ = ["MAX_LAYERS", "LayerStore", "LayerVersion", "layer_arn", "parse_layer_version_arn"]

# "Lambda quotas": five layers per function.
MAX_LAYERS = 5

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS layers (name TEXT PRIMARY KEY, last_version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS layer_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        code_sha TEXT NOT NULL,
        code_size INTEGER NOT NULL,
        unzipped_size INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        license_info TEXT,
        runtimes TEXT NOT NULL DEFAULT '[]',
        architectures TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        statements TEXT NOT NULL DEFAULT '[]',
        policy_revision TEXT,
        PRIMARY KEY (name, version)
    )""",
)

# botocore's LayerVersionArn, for this platform's own (aws) partition.
_VERSION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9_-]+):(?P<version>[0-9]+)$"
)


def layer_arn(region: str, account: str, name: str, version: int | None = None) -> str:
    """The ARN of a layer (``version`` None) or of one of its versions (``arns.Scope``)."""
    return arns.Scope(region, account).layer(name, version)


def parse_layer_version_arn(arn: str) -> tuple[str, str, str, int] | None:
    """(region, account, layer name, version) of a layer version ARN; None if it is not one."""
    match = _VERSION_ARN.match(arn)
    if match is None or len(match["name"]) > 140:
        return None
    return match["region"], match["account"], match["name"], int(match["version"])


@dataclass(frozen=True)
class LayerVersion:
    """One published layer version, as stored."""

    name: str
    version: int
    code_sha: str  # hex
    code_size: int
    unzipped_size: int
    description: str
    license_info: str | None
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    created: str
    deleted: bool = False

    @property
    def code_sha256(self) -> str:
        return code_sha256(self.code_sha)


def _from_row(row: Any) -> LayerVersion:
    return LayerVersion(
        name=row["name"],
        version=int(row["version"]),
        code_sha=row["code_sha"],
        code_size=int(row["code_size"]),
        unzipped_size=int(row["unzipped_size"]),
        description=row["description"],
        license_info=row["license_info"],
        runtimes=tuple(json.loads(row["runtimes"])),
        architectures=tuple(json.loads(row["architectures"])),
        created=row["created"],
        deleted=bool(row["deleted"]),
    )


class LayerStore:
    """The layers of one platform, in the ``Store``'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)
        self.attach()

    def arn(self, name: str, version: int | None = None) -> str:
        """The ARN of a layer or layer version in the scope of the request being answered."""
        return self.store.scope().layer(name, version)

    def publish(
        self,
        name: str,
        code: StoredCode,
        *,
        unzipped_size: int,
        description: str = "",
        license_info: str | None = None,
        runtimes: tuple[str, ...] = (),
        architectures: tuple[str, ...] = (),
    ) -> LayerVersion:
        """Store the next version of layer ``name`` (numbers are never reused)."""
        created = now_timestamp()
        with self.store.transaction() as db:
            row = db.execute("SELECT last_version FROM layers WHERE name = ?", (name,)).fetchone()
            number = (int(row[0]) if row else 0) + 1
            db.execute(
                "INSERT INTO layers (name, last_version) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET last_version = excluded.last_version",
                (name, number),
            )
            db.execute(
                "INSERT INTO layer_versions (name, version, code_sha, code_size, unzipped_size, "
                "description, license_info, runtimes, architectures, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, number, code.sha_hex, code.size, unzipped_size, description,
                 license_info, json.dumps(list(runtimes)), json.dumps(list(architectures)),
                 created),
            )  # fmt: skip
        return LayerVersion(
            name, number, code.sha_hex, code.size, unzipped_size, description, license_info,
            runtimes, architectures, created,
        )  # fmt: skip

    def version(self, name: str, version: int, *, deleted: bool = False) -> LayerVersion:
        """One version; ``ResourceNotFound`` (AWS's words) when absent or, unless
        ``deleted``, deleted."""
        rows = self.store.rows(
            "SELECT * FROM layer_versions WHERE name = ? AND version = ?", name, version
        )
        if not rows or (rows[0]["deleted"] and not deleted):
            raise ResourceNotFound("The resource you requested does not exist.")
        return _from_row(rows[0])

    def versions(
        self, name: str, *, runtime: str | None = None, architecture: str | None = None
    ) -> list[LayerVersion]:
        """The live versions of ``name`` newest first, as ListLayerVersions orders them;
        with a filter, only the versions declaring that runtime / architecture."""
        rows = self.store.rows(
            "SELECT * FROM layer_versions WHERE name = ? AND deleted = 0 ORDER BY version DESC",
            name,
        )
        return [
            record
            for record in map(_from_row, rows)
            if (runtime is None or runtime in record.runtimes)
            and (architecture is None or architecture in record.architectures)
        ]

    def layers(
        self, *, runtime: str | None = None, architecture: str | None = None
    ) -> list[LayerVersion]:
        """The newest matching version of every layer that has one, by layer name."""
        names = [
            row[0]
            for row in self.store.rows(
                "SELECT DISTINCT name FROM layer_versions WHERE deleted = 0 ORDER BY name"
            )
        ]
        newest = []
        for name in names:
            found = self.versions(name, runtime=runtime, architecture=architecture)
            if found:
                newest.append(found[0])
        return newest

    def delete(self, name: str, version: int) -> None:
        """Delete a version (a no-op when there is none, as on AWS). While a function or
        version still names it, its content stays for them."""
        keep = self.in_use(self.arn(name, version))
        with self.store.transaction() as db:
            if keep:
                db.execute(
                    "UPDATE layer_versions SET deleted = 1, statements = '[]', "
                    "policy_revision = NULL WHERE name = ? AND version = ?",
                    (name, version),
                )
            else:
                db.execute(
                    "DELETE FROM layer_versions WHERE name = ? AND version = ?", (name, version)
                )

    def resolve(self, arn: str, *, deleted: bool = False) -> LayerVersion:
        """The version a function's ``Layers`` entry names; AWS's
        ``InvalidParameterValueException`` when there is no such version here."""
        parsed = parse_layer_version_arn(arn)
        if parsed is not None:
            # The account must be the caller's; the region is whichever the function's
            # creator signed for (ARNs follow the caller's region, the layers are this one
            # machine's), so a version read when the function starts resolves all the same.
            _, account, name, number = parsed
            if account == self.store.scope().account:
                try:
                    return self.version(name, number, deleted=deleted)
                except ResourceNotFound:
                    pass
        raise InvalidParameterValue(f"Layer version {arn} does not exist.")

    def referenced_code(self) -> set[str]:
        """SHA-256 digests (hex) of every layer zip still stored (live or in use)."""
        return {row[0] for row in self.store.rows("SELECT code_sha FROM layer_versions")}

    def in_use(self, arn: str) -> bool:
        """Whether a function's ``$LATEST`` or a published version names layer version ``arn``."""
        pattern = (
            "%"
            + json.dumps(arn).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        rows = self.store.rows(
            "SELECT 1 FROM functions WHERE config LIKE ?1 ESCAPE '\\' "
            "UNION ALL SELECT 1 FROM versions WHERE config LIKE ?1 ESCAPE '\\' LIMIT 1",
            pattern,
        )
        return bool(rows)

    def purge_unused(self) -> None:
        """Forget deleted versions no function names any more (after a function goes)."""
        rows = self.store.rows("SELECT name, version FROM layer_versions WHERE deleted = 1")
        gone = [(row[0], row[1]) for row in rows if not self.in_use(self.arn(row[0], int(row[1])))]
        if gone:
            with self.store.transaction() as db:
                db.executemany("DELETE FROM layer_versions WHERE name = ? AND version = ?", gone)

    # -- resource policies on layer versions ------------------------------------------------

    def policy(self, name: str, version: int) -> tuple[list[dict[str, Any]], str | None]:
        """The statements on a version and the policy's revision id (None: no policy)."""
        self.version(name, version)
        rows = self.store.rows(
            "SELECT statements, policy_revision FROM layer_versions WHERE name = ? AND version = ?",
            name,
            version,
        )
        return json.loads(rows[0][0]), rows[0][1]

    def change_policy(
        self,
        name: str,
        version: int,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        *,
        revision_id: str | None = None,
    ) -> str:
        """Apply ``change`` to a version's statements in one transaction; the new revision."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT statements, policy_revision, deleted FROM layer_versions "
                "WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
            if row is None or row["deleted"]:
                raise ResourceNotFound("The resource you requested does not exist.")
            if revision_id is not None and revision_id != row["policy_revision"]:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetLayerVersionPolicy API to retrieve the latest Revision Id"
                )
            statements = change(json.loads(row["statements"]))
            revision = new_revision()
            db.execute(
                "UPDATE layer_versions SET statements = ?, policy_revision = ? "
                "WHERE name = ? AND version = ?",
                (json.dumps(statements), revision if statements else None, name, version),
            )
        return revision

    # -- what functions use -------------------------------------------------------------

    def attach(self) -> LayerStore:
        """Tell the ``Store`` which packages layers keep and where a configuration's
        layers are mounted from (``Store.version_spec``)."""
        self.store.other_code.append(self.referenced_code)
        self.store.opt_dir = self.opt_dir
        return self

    def opt_dir(self, layers: list[dict[str, Any]]) -> Path | None:
        """The read-only /opt of a configuration's ``Layers`` (None without any)."""
        if not layers:
            return None
        shas = [self.resolve(layer["Arn"], deleted=True).code_sha for layer in layers]
        return self.store.code.layered(shas)

    def function_layers(self, value: object) -> list[dict[str, Any]]:
        """A Create/UpdateFunctionConfiguration ``Layers`` list as the configuration keeps
        it (``[{"Arn", "CodeSize"}]``), checked as Lambda checks it."""
        if not isinstance(value, list) or not all(isinstance(arn, str) for arn in value):
            raise InvalidParameterValue("Layers must be a list of layer version ARNs")
        for arn in value:
            if parse_layer_version_arn(arn) is None:
                raise model_error(
                    value,
                    "layers",
                    "Member must satisfy constraint: [Member must have length less than or "
                    "equal to 2048, Member must have length greater than or equal to 1, Member "
                    "must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:"
                    "[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:"
                    "lambda:::awslayer:[a-zA-Z0-9-_]+)]",
                )
        if len(value) > MAX_LAYERS:
            raise InvalidParameterValue(f"Cannot reference more than {MAX_LAYERS} layers.")
        names: set[str] = set()
        for arn in value:
            name = arn.rsplit(":", 1)[0]
            if name in names:
                raise InvalidParameterValue(
                    "Two different versions of the same layer are not allowed to be "
                    f"referenced in the same function. {arn} is referenced twice."
                )
            names.add(name)
        return [{"Arn": arn, "CodeSize": self.resolve(arn).code_size} for arn in value]

    def check_size(self, code_sha: str, layers: list[dict[str, Any]]) -> None:
        """Lambda's quota on code and layers together: 250 MB unzipped."""
        if not layers:
            return
        total = self.store.code.unzipped_size(code_sha) + sum(
            self.resolve(layer["Arn"], deleted=True).unzipped_size for layer in layers
        )
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValue(
                "Function code combined with layers exceeds the maximum allowed size of "
                f"{MAX_UNZIPPED_BYTES} bytes. The actual size is {total} bytes."
            )
