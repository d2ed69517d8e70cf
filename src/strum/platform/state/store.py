"""The control plane's state: functions, versions, aliases, concurrency, URL configs and
asynchronous invocation configs.

One SQLite database (``home.db``) in WAL mode with ``synchronous=FULL``: a control call
returns only after its change is on disk, so a restart - even ``kill -9`` - loses nothing
that was acknowledged. Packages themselves live in the content-addressed ``CodeStore``;
the database holds their SHA-256.

A function's configuration is kept as the AWS-shaped dict the API answers with (``Runtime``,
``Handler``, ``Environment``...), minus what is computed at read time (ARNs, ``CodeSha256``,
``State``). ``$LATEST`` lives in ``functions``; ``PublishVersion`` copies it into
``versions``, which never change afterwards.

Calls are synchronous and short; one ``Store`` serves one asyncio loop. What an invocation
reads (``version_spec``, ``invoked_alias``) is on every request's path, so its answers are
cached until the next write; choosing among an alias's versions is the invoker's business.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from strum.platform import arns
from strum.platform.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from strum.platform.home import Home
from strum.platform.spec import FunctionSpec
from strum.platform.state.codestore import CodeStore, StoredCode, code_sha256
from strum.platform.state.records import (
    LATEST,
    SCHEMA,
    AliasRecord,
    FunctionRecord,
    alias_from_row,
    function_spec,
    new_revision,
    now_timestamp,
    parse_function_name,
    record_from_row,
    same_config,
    url_config_from_row,
    url_key,
)

__all__ = [
    "LATEST",
    "AliasRecord",
    "FunctionRecord",
    "Store",
    "parse_function_name",
    "url_key",
]


class Store:
    """The platform's control-plane state in SQLite, plus the package store beside it."""

    def __init__(
        self, home: Home, *, region: str = "us-east-1", account_id: str = "000000000000"
    ) -> None:
        self.home = home.ensure()
        # Where ARNs point outside of a request (async deliveries, schedules, URLs).
        self.default_scope = arns.Scope(region, account_id)
        self.code = CodeStore(home)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(home.db, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._specs: dict[tuple[str, str], FunctionSpec] = {}
        self._aliases: dict[tuple[str, str], AliasRecord | None] = {}
        # Asked on every authorised call about a function; cleared on every write.
        self._policies: dict[tuple[str, str], tuple[str, str] | None] = {}
        # Set by the state beside functions that holds packages too (``LayerStore``): the
        # digests it keeps, and the read-only /opt directory of a configuration's Layers.
        self.other_code: list[Callable[[], set[str]]] = []
        self.opt_dir: Callable[[list[dict[str, Any]]], Path | None] = lambda layers: None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def scope(self) -> arns.Scope:
        """The region and account the ARNs of the request being answered point to."""
        return arns.current(self.default_scope)

    def arn(self, name: str, qualifier: str | None = None) -> str:
        """A function's ARN in the current scope (see ``strum.platform.arns``)."""
        return arns.current(self.default_scope).function(name, qualifier)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable write: ``BEGIN IMMEDIATE`` ... ``COMMIT``, read caches cleared after.

        Public so that each kind of state beside functions (layers, tags, volumes...) can
        live in its own module under ``state/`` and share this one database and lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._specs.clear()
            self._aliases.clear()
            self._policies.clear()

    def rows(self, sql: str, *args: object) -> list[sqlite3.Row]:
        """The rows of one read, under the store's lock."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- functions and versions ---------------------------------------------------------

    def create_function(
        self, name: str, config: dict[str, Any], code: StoredCode
    ) -> FunctionRecord:
        """Store a new function's ``$LATEST``; ``ResourceConflict`` if the name is taken."""
        record = FunctionRecord(
            name, LATEST, config, code.sha_hex, code.size, new_revision(), now_timestamp()
        )
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM functions WHERE name = ?", (name,)).fetchone():
                raise ResourceConflict(f"Function already exist: {name}")
            db.execute(
                "INSERT INTO functions (name, config, code_sha, code_size, revision_id, "
                "last_modified) VALUES (?, ?, ?, ?, ?, ?)",
                (name, json.dumps(config), code.sha_hex, code.size, record.revision_id,
                 record.last_modified),
            )  # fmt: skip
        return record

    def function(self, name: str, qualifier: str | None = None) -> FunctionRecord:
        """The record for ``$LATEST`` (no qualifier), a version number, or an alias."""
        if qualifier is None or qualifier == LATEST:
            rows = self.rows("SELECT * FROM functions WHERE name = ?", name)
            if not rows:
                raise ResourceNotFound(f"Function not found: {self.arn(name, qualifier)}")
            return record_from_row(rows[0], LATEST)
        if not qualifier.isdigit():
            try:
                alias = self.alias(name, qualifier)
            except ResourceNotFound:
                raise ResourceNotFound(f"Function not found: {self.arn(name, qualifier)}") from None
            return self.function(name, alias.function_version)
        rows = self.rows(
            "SELECT * FROM versions WHERE name = ? AND version = ?", name, int(qualifier)
        )
        if not rows:
            raise ResourceNotFound(f"Function not found: {self.arn(name, qualifier)}")
        return record_from_row(rows[0], str(rows[0]["version"]))

    def list_functions(self) -> list[FunctionRecord]:
        """Every function's ``$LATEST``, by name."""
        rows = self.rows("SELECT * FROM functions ORDER BY name")
        return [record_from_row(row, LATEST) for row in rows]

    def list_versions(self, name: str) -> list[FunctionRecord]:
        """``$LATEST`` then every published version in order."""
        latest = self.function(name)
        rows = self.rows("SELECT * FROM versions WHERE name = ? ORDER BY version", name)
        return [latest, *(record_from_row(row, str(row["version"])) for row in rows)]

    def update_code(
        self, name: str, code: StoredCode, *, revision_id: str | None = None
    ) -> FunctionRecord:
        """Point ``$LATEST`` at another package."""
        with self.transaction() as db:
            current = self._latest_for_update(db, name, revision_id)
            record = replace(
                current,
                code_sha=code.sha_hex,
                code_size=code.size,
                revision_id=new_revision(),
                last_modified=now_timestamp(),
            )
            db.execute(
                "UPDATE functions SET code_sha = ?, code_size = ?, revision_id = ?, "
                "last_modified = ? WHERE name = ?",
                (code.sha_hex, code.size, record.revision_id, record.last_modified, name),
            )
        return record

    def update_config(
        self, name: str, config: dict[str, Any], *, revision_id: str | None = None
    ) -> FunctionRecord:
        """Replace ``$LATEST``'s configuration (the caller merges the changes in)."""
        with self.transaction() as db:
            current = self._latest_for_update(db, name, revision_id)
            record = replace(
                current, config=config, revision_id=new_revision(), last_modified=now_timestamp()
            )
            db.execute(
                "UPDATE functions SET config = ?, revision_id = ?, last_modified = ? "
                "WHERE name = ?",
                (json.dumps(config), record.revision_id, record.last_modified, name),
            )
        return record

    def publish_version(
        self,
        name: str,
        *,
        description: str | None = None,
        code_sha_hex: str | None = None,
        revision_id: str | None = None,
    ) -> FunctionRecord:
        """Snapshot ``$LATEST`` as the next version number.

        As on AWS, publishing an unchanged ``$LATEST`` (same code and configuration as the
        newest version) answers that version instead of creating another.
        """
        with self.transaction() as db:
            latest = self._latest_for_update(db, name, revision_id)
            if code_sha_hex is not None and code_sha_hex != latest.code_sha:
                raise InvalidParameterValue(
                    f"CodeSHA256 ({code_sha256(code_sha_hex)}) is different from current CodeSHA256 in "
                    f"$LATEST ({code_sha256(latest.code_sha)}). Please try again with the CodeSHA256 "
                    "in $LATEST."
                )
            newest = db.execute(
                "SELECT * FROM versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
            ).fetchone()
            config = dict(latest.config)
            if description is not None:
                config["Description"] = description
            if newest is not None:
                previous = record_from_row(newest, str(newest["version"]))
                if previous.code_sha == latest.code_sha and same_config(
                    previous.config, latest.config
                ):
                    return previous
            number = int(
                db.execute("SELECT last_version FROM functions WHERE name = ?", (name,))
                .fetchone()[0]
            ) + 1  # fmt: skip
            record = replace(
                latest, version=str(number), config=config, revision_id=new_revision(),
                last_modified=now_timestamp(),
            )  # fmt: skip
            db.execute("UPDATE functions SET last_version = ? WHERE name = ?", (number, name))
            db.execute(
                "INSERT INTO versions (name, version, config, code_sha, code_size, revision_id, "
                "last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, number, json.dumps(config), record.code_sha, record.code_size,
                 record.revision_id, record.last_modified),
            )  # fmt: skip
        return record

    def delete_function(self, name: str) -> list[str]:
        """Delete a function with its versions, aliases, concurrency and URL configs.

        Answers the keys of the URL configs that went with it (their listeners must close).
        """
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            keys = [
                row[0]
                for row in db.execute(
                    "SELECT key FROM url_configs WHERE function_name = ?", (name,)
                )
            ]
            db.execute("DELETE FROM functions WHERE name = ?", (name,))
        return keys

    def referenced_code(self) -> set[str]:
        """SHA-256 digests (hex) of every package a function or version still uses."""
        rows = self.rows("SELECT code_sha FROM functions UNION SELECT code_sha FROM versions")
        kept = {row[0] for row in rows}
        for holder in self.other_code:
            kept |= holder()
        return kept

    def delete_version(self, name: str, version: str) -> None:
        """Delete one published version; ``ResourceConflict`` while an alias uses it."""
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            if not db.execute(
                "SELECT 1 FROM versions WHERE name = ? AND version = ?", (name, int(version))
            ).fetchone():
                raise ResourceNotFound(f"Function not found: {self.arn(name, version)}")
            for row in db.execute(
                "SELECT alias, function_version, weights FROM aliases WHERE name = ?", (name,)
            ):
                if row["function_version"] == version or version in json.loads(row["weights"]):
                    raise ResourceConflict(
                        f"Unable to delete version because the following aliases reference "
                        f"it: [{row['alias']}]"
                    )
            db.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, int(version)))
            db.execute(
                "DELETE FROM resource_policies WHERE name = ? AND qualifier = ?", (name, version)
            )

    def _latest_for_update(
        self, db: sqlite3.Connection, name: str, revision_id: str | None
    ) -> FunctionRecord:
        row = db.execute("SELECT * FROM functions WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ResourceNotFound(f"Function not found: {self.arn(name)}")
        record = record_from_row(row, LATEST)
        if revision_id is not None and revision_id != record.revision_id:
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id"
            )
        return record

    # -- aliases --------------------------------------------------------------------------

    def create_alias(self, alias: AliasRecord) -> AliasRecord:
        record = replace(alias, revision_id=new_revision())
        with self.transaction() as db:
            self._latest_for_update(db, alias.function_name, None)
            self._check_versions(db, record)
            if db.execute(
                "SELECT 1 FROM aliases WHERE name = ? AND alias = ?",
                (alias.function_name, alias.name),
            ).fetchone():
                raise ResourceConflict(
                    f"Alias already exists: {self.arn(alias.function_name, alias.name)}"
                )
            db.execute(
                "INSERT INTO aliases (name, alias, function_version, description, weights, "
                "revision_id) VALUES (?, ?, ?, ?, ?, ?)",
                (record.function_name, record.name, record.function_version,
                 record.description, json.dumps(record.weights), record.revision_id),
            )  # fmt: skip
        return record

    def alias(self, function_name: str, name: str) -> AliasRecord:
        rows = self.rows("SELECT * FROM aliases WHERE name = ? AND alias = ?", function_name, name)
        if not rows:
            # AWS's words, naming the whole ARN; an unknown function reads the same way.
            raise ResourceNotFound(f"Cannot find alias arn: {self.arn(function_name, name)}")
        return alias_from_row(rows[0])

    def list_aliases(
        self, function_name: str, function_version: str | None = None
    ) -> list[AliasRecord]:
        self.function(function_name)
        rows = self.rows("SELECT * FROM aliases WHERE name = ? ORDER BY alias", function_name)
        aliases = [alias_from_row(row) for row in rows]
        if function_version is not None:
            aliases = [
                alias
                for alias in aliases
                if alias.function_version == function_version or function_version in alias.weights
            ]
        return aliases

    def update_alias(self, alias: AliasRecord, *, revision_id: str | None = None) -> AliasRecord:
        """Replace an alias (the caller merges the changes into the current record)."""
        record = replace(alias, revision_id=new_revision())
        with self.transaction() as db:
            current = self.alias(alias.function_name, alias.name)
            if revision_id is not None and revision_id != current.revision_id:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id"
                )
            self._check_versions(db, record)
            db.execute(
                "UPDATE aliases SET function_version = ?, description = ?, weights = ?, "
                "revision_id = ? WHERE name = ? AND alias = ?",
                (record.function_version, record.description, json.dumps(record.weights),
                 record.revision_id, record.function_name, record.name),
            )  # fmt: skip
        return record

    def delete_alias(self, function_name: str, name: str) -> str | None:
        """Delete an alias (and its URL config: answers that config's key, if it had one)."""
        with self.transaction() as db:
            self.alias(function_name, name)
            key = url_key(function_name, name)
            had_url = db.execute("SELECT 1 FROM url_configs WHERE key = ?", (key,)).fetchone()
            db.execute("DELETE FROM url_configs WHERE key = ?", (key,))
            db.execute("DELETE FROM aliases WHERE name = ? AND alias = ?", (function_name, name))
            db.execute(
                "DELETE FROM resource_policies WHERE name = ? AND qualifier = ?",
                (function_name, name),
            )
        return key if had_url else None

    def _check_versions(self, db: sqlite3.Connection, alias: AliasRecord) -> None:
        for version in (alias.function_version, *alias.weights):
            if version == LATEST:
                continue
            if not db.execute(
                "SELECT 1 FROM versions WHERE name = ? AND version = ?",
                (alias.function_name, int(version)),
            ).fetchone():
                raise ResourceNotFound(
                    f"Function not found: {self.arn(alias.function_name, version)}"
                )

    # -- concurrency ----------------------------------------------------------------------

    def put_concurrency(self, name: str, reserved: int) -> None:
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            db.execute(
                "INSERT INTO concurrency (name, reserved) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET reserved = excluded.reserved",
                (name, reserved),
            )

    def concurrency(self, name: str) -> int | None:
        """The function's reserved concurrency, or None when it has none."""
        rows = self.rows("SELECT reserved FROM concurrency WHERE name = ?", name)
        return int(rows[0][0]) if rows else None

    def reserved_elsewhere(self, name: str) -> int:
        """Concurrency reserved by every function but ``name``."""
        rows = self.rows("SELECT COALESCE(SUM(reserved), 0) FROM concurrency WHERE name != ?", name)
        return int(rows[0][0])

    def delete_concurrency(self, name: str) -> None:
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            db.execute("DELETE FROM concurrency WHERE name = ?", (name,))

    # -- Function URL configs ---------------------------------------------------------------

    def create_url_config(
        self,
        function_name: str,
        qualifier: str | None,
        *,
        auth_type: str,
        cors: dict[str, Any],
        invoke_mode: str,
    ) -> dict[str, Any]:
        key = url_key(function_name, qualifier)
        stamp = now_timestamp()
        with self.transaction() as db:
            self._latest_for_update(db, function_name, None)
            if db.execute("SELECT 1 FROM url_configs WHERE key = ?", (key,)).fetchone():
                raise ResourceConflict(
                    f"Failed to create function url config for [functionArn = "
                    f"{self.arn(function_name, qualifier)}]. Error message:  FunctionUrlConfig "
                    "exists for this Lambda function"
                )
            db.execute(
                "INSERT INTO url_configs (key, function_name, qualifier, auth_type, cors, "
                "invoke_mode, creation_time, last_modified_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, function_name, qualifier, auth_type, json.dumps(cors), invoke_mode,
                 stamp, stamp),
            )  # fmt: skip
        config = self.get_url_config(key)
        assert config is not None
        return config

    def get_url_config(self, name: str) -> dict[str, Any] | None:
        """The URL config under key ``name`` (see ``url_key``), or None.

        Keys: key, function_name, qualifier (None or an alias), auth_type ("NONE" /
        "AWS_IAM"), cors (AWS's ``Cors`` dict), invoke_mode ("BUFFERED" /
        "RESPONSE_STREAM"), port (None until a listener was bound), creation_time,
        last_modified_time.
        """
        rows = self.rows("SELECT * FROM url_configs WHERE key = ?", name)
        return url_config_from_row(rows[0]) if rows else None

    def list_url_configs(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """Every URL config (of one function when ``function_name`` is given)."""
        if function_name is None:
            rows = self.rows("SELECT * FROM url_configs ORDER BY key")
        else:
            rows = self.rows(
                "SELECT * FROM url_configs WHERE function_name = ? ORDER BY key", function_name
            )
        return [url_config_from_row(row) for row in rows]

    def update_url_config(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change auth_type / cors / invoke_mode of the URL config under key ``name``."""
        current = self.get_url_config(name)
        if current is None:
            raise ResourceNotFound(f"The resource you requested does not exist: {name}")
        merged = {**current, **{k: v for k, v in changes.items() if v is not None}}
        with self.transaction() as db:
            db.execute(
                "UPDATE url_configs SET auth_type = ?, cors = ?, invoke_mode = ?, "
                "last_modified_time = ? WHERE key = ?",
                (merged["auth_type"], json.dumps(merged["cors"]), merged["invoke_mode"],
                 now_timestamp(), name),
            )  # fmt: skip
        config = self.get_url_config(name)
        assert config is not None
        return config

    def delete_url_config(self, name: str) -> None:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM url_configs WHERE key = ?", (name,))
            if cursor.rowcount == 0:
                raise ResourceNotFound(f"The resource you requested does not exist: {name}")

    def set_url_port(self, name: str, port: int) -> None:
        """Remember the port a URL config's listener is bound to (reused after restarts)."""
        with self.transaction() as db:
            db.execute("UPDATE url_configs SET port = ? WHERE key = ?", (port, name))

    # -- asynchronous invocation configs (Put/Get/Update/DeleteFunctionEventInvokeConfig) --

    def put_event_invoke_config(
        self, name: str, qualifier: str, settings: dict[str, Any], *, merge: bool = False
    ) -> dict[str, Any]:
        """Set (or, with ``merge``, change) the config of ``name`` at ``qualifier``.

        ``settings`` holds AWS's keys (``MaximumRetryAttempts``, ``MaximumEventAgeInSeconds``,
        ``DestinationConfig``); answers the stored config with ``LastModified``.
        """
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            if merge:
                row = db.execute(
                    "SELECT config FROM event_invoke_configs WHERE name = ? AND qualifier = ?",
                    (name, qualifier),
                ).fetchone()
                settings = {**(json.loads(row[0]) if row else {}), **settings}
            stamp = time.time()
            db.execute(
                "INSERT INTO event_invoke_configs (name, qualifier, config, last_modified) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(name, qualifier) DO UPDATE SET "
                "config = excluded.config, last_modified = excluded.last_modified",
                (name, qualifier, json.dumps(settings), stamp),
            )
        return {**settings, "LastModified": stamp}

    def event_invoke_config(self, name: str, qualifier: str) -> dict[str, Any] | None:
        """The stored config of ``name`` at ``qualifier`` ("$LATEST", a version, an alias)."""
        rows = self.rows(
            "SELECT config, last_modified FROM event_invoke_configs "
            "WHERE name = ? AND qualifier = ?",
            name,
            qualifier,
        )
        if not rows:
            return None
        return {**json.loads(rows[0][0]), "LastModified": rows[0][1]}

    def list_event_invoke_configs(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        """(qualifier, config) of every config of ``name``."""
        rows = self.rows(
            "SELECT qualifier, config, last_modified FROM event_invoke_configs WHERE name = ? "
            "ORDER BY qualifier",
            name,
        )
        return [(row[0], {**json.loads(row[1]), "LastModified": row[2]}) for row in rows]

    def delete_event_invoke_config(self, name: str, qualifier: str) -> bool:
        """Forget the config; False when there was none."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?",
                (name, qualifier),
            )
        return cursor.rowcount > 0

    # -- what the engine runs ---------------------------------------------------------------

    # -- resource-based policies ---------------------------------------------------------

    def resource_policy(self, name: str, qualifier: str | None = None) -> tuple[str, str] | None:
        """The statements (JSON, as stored) of the policy on ``name`` (or one version or
        alias of it) and its revision id; None when it has none. Callers parse the text
        once and keep what they parsed by it: this is asked on every authorised call."""
        key = (name, qualifier or "")
        if key in self._policies:
            return self._policies[key]
        rows = self.rows(
            "SELECT statements, revision_id FROM resource_policies WHERE name = ? AND qualifier = ?",
            *key,
        )
        found = (str(rows[0][0]), str(rows[0][1])) if rows else None
        if len(self._policies) > 10_000:
            self._policies.clear()
        self._policies[key] = found
        return found

    def change_resource_policy(
        self,
        name: str,
        qualifier: str | None,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        *,
        revision_id: str | None = None,
    ) -> str:
        """Apply ``change`` to the statements of a policy in one transaction; answers the new
        revision id. The function (and the version or alias) must exist; ``revision_id``,
        when given, must be the policy's current one (AWS's optimistic locking)."""
        with self.transaction() as db:
            self._latest_for_update(db, name, None)
            if qualifier and qualifier != LATEST:
                table, column = (
                    ("versions", "version") if qualifier.isdigit() else ("aliases", "alias")
                )
                found = db.execute(
                    f"SELECT 1 FROM {table} WHERE name = ? AND {column} = ?", (name, qualifier)
                ).fetchone()
                if found is None:
                    raise ResourceNotFound(f"Function not found: {self.arn(name, qualifier)}")
            row = db.execute(
                "SELECT statements, revision_id FROM resource_policies WHERE name = ? AND qualifier = ?",
                (name, qualifier or ""),
            ).fetchone()
            statements, current = (json.loads(row[0]), row[1]) if row else ([], None)
            if revision_id is not None and revision_id != current:
                raise PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetPolicy API to retrieve the latest Revision Id"
                )
            statements = change(statements)
            revision = new_revision()
            if statements:
                db.execute(
                    "INSERT OR REPLACE INTO resource_policies (name, qualifier, statements,"
                    " revision_id) VALUES (?, ?, ?, ?)",
                    (name, qualifier or "", json.dumps(statements), revision),
                )
            else:
                db.execute(
                    "DELETE FROM resource_policies WHERE name = ? AND qualifier = ?",
                    (name, qualifier or ""),
                )
        return revision

    def invoked_alias(self, name: str, alias_name: str) -> AliasRecord:
        """The alias an invocation names (cached until the next write); ``ResourceNotFound``
        says *function* not found, as AWS's Invoke does."""
        key = (name, alias_name)
        if key not in self._aliases:
            try:
                self._aliases[key] = self.alias(name, alias_name)
            except ResourceNotFound:
                self._aliases[key] = None
        alias = self._aliases[key]
        if alias is None:
            raise ResourceNotFound(f"Function not found: {self.arn(name, alias_name)}")
        return alias

    def version_spec(self, name: str, version: str) -> FunctionSpec:
        """What the engine runs for ``version`` ("$LATEST" or a number) of ``name``, with the
        unqualified ARN (cached until the next write). Raises ``ResourceNotFound``."""
        spec = self._specs.get((name, version))
        if spec is None:
            record = self.function(name, version)
            spec = function_spec(
                record,
                arn=self.arn(record.name),
                code_dir=self.code.unpack(record.code_sha),
                opt_dir=self.opt_dir(record.config.get("Layers") or []),
                reserved_concurrency=self.concurrency(record.name),
                region=self.default_scope.region,
            )
            self._specs[(name, version)] = spec
        return spec

    def code_path(self, sha_hex: str) -> Path:
        """Where the zip of ``sha_hex`` lives (it may not exist)."""
        return self.code.zip_path(sha_hex)
