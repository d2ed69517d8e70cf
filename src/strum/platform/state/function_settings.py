"""Per-function settings that change nothing the platform runs, kept as AWS keeps them.

``PutFunctionRecursionConfig`` (``RecursiveLoop``: ``Terminate`` by default) and
``PutRuntimeManagementConfig`` (``UpdateRuntimeOn``: ``Auto`` by default, per version):
the platform runs every function on the host's interpreter, so neither steers it, but a
tool that sets them reads back what it set. One table of its own in the store's database,
gone with its function.
"""

from __future__ import annotations

import json
from typing import Any

from strum.platform.errors import ResourceNotFound
from strum.platform.state.store import Store

__all__ = ["FunctionSettings"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS function_settings (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, qualifier, kind)
);
"""

RECURSION = "recursion"
RUNTIME_MANAGEMENT = "runtime-management"


class FunctionSettings:
    """Settings of one kind per function (and qualifier), as JSON documents."""

    def __init__(self, store: Store) -> None:
        self._store = store
        with store.transaction() as db:
            db.execute(SCHEMA)

    def get(self, name: str, kind: str, qualifier: str = "") -> dict[str, Any] | None:
        """The stored document, or None when the function never had one of ``kind``."""
        rows = self._store.rows(
            "SELECT value FROM function_settings WHERE name = ? AND qualifier = ? AND kind = ?",
            name,
            qualifier,
            kind,
        )
        return json.loads(rows[0][0]) if rows else None

    def put(self, name: str, kind: str, value: dict[str, Any], qualifier: str = "") -> None:
        with self._store.transaction() as db:
            if db.execute("SELECT 1 FROM functions WHERE name = ?", (name,)).fetchone() is None:
                raise ResourceNotFound(f"Function not found: {self._store.arn(name)}")
            db.execute(
                "INSERT INTO function_settings (name, qualifier, kind, value) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(name, qualifier, kind) DO UPDATE SET value = excluded.value",
                (name, qualifier, kind, json.dumps(value)),
            )
