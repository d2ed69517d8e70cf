"""Provisioned concurrency configurations: how many initialised instances each version or
alias of a function asks for (Put/Get/List/DeleteProvisionedConcurrencyConfig).

Only what was asked is stored (the count and when); what is allocated is the engine's
live state, so after a restart the platform provisions again from these rows. The rules
AWS applies when a configuration is put live here too: a version or an alias only, never
``$LATEST``; not an alias on a version provisioned on its own (nor the other way round);
and the function's provisioned total within its reserved concurrency, or within the
account's unreserved concurrency when it has none ("Configuring provisioned concurrency",
Lambda developer guide).
"""

from __future__ import annotations

import sqlite3

from strum.platform.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from strum.platform.state.records import LATEST, now_timestamp
from strum.platform.state.store import Store

__all__ = ["ProvisionedConfigs"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS provisioned_concurrency (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier TEXT NOT NULL,
    requested INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
"""


class ProvisionedConfigs:
    """The provisioned concurrency configurations, in the store's database."""

    def __init__(self, store: Store, account_limit: int) -> None:
        self._store = store
        self._limit = account_limit
        with store.transaction() as db:
            db.execute(_SCHEMA)

    def put(self, name: str, qualifier: str, requested: int) -> str:
        """Ask for ``requested`` instances of ``name`` at ``qualifier``; answers the
        ``LastModified`` stamp. Raises what AWS raises for a configuration it refuses."""
        if qualifier == LATEST:
            raise InvalidParameterValue(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions."
            )
        stamp = now_timestamp()
        with self._store.transaction() as db:
            versions = _versions_of(db, self._store, name, qualifier)
            others = _rows(db, name, exclude=qualifier)
            for other, _ in others:
                overlap = versions & _versions_of(db, self._store, name, other)
                if overlap and (other.isdigit() or qualifier.isdigit()):
                    raise ResourceConflict(
                        "Alias can't be used for Provisioned Concurrency configuration on an "
                        f"already Provisioned version: {name}:{other} covers version "
                        f"{min(overlap)}"
                    )
            total = requested + sum(count for _, count in others)
            reserved = db.execute(
                "SELECT reserved FROM concurrency WHERE name = ?", (name,)
            ).fetchone()
            if reserved is not None and total > int(reserved[0]):
                raise InvalidParameterValue(
                    "Requested Provisioned Concurrency should not be greater than the "
                    f"reservedConcurrentExecution for function: {name} reserves "
                    f"{reserved[0]} and its provisioned concurrency would total {total}"
                )
            if reserved is None:
                unreserved = self._limit - int(
                    db.execute("SELECT COALESCE(SUM(reserved), 0) FROM concurrency").fetchone()[0]
                )
                elsewhere = int(
                    db.execute(
                        "SELECT COALESCE(SUM(requested), 0) FROM provisioned_concurrency "
                        "WHERE name != ? AND name NOT IN (SELECT name FROM concurrency)",
                        (name,),
                    ).fetchone()[0]
                )
                if total + elsewhere > unreserved:
                    raise InvalidParameterValue(
                        "Specified ConcurrentExecutions for function is greater than account's "
                        f"unreserved concurrency [{max(unreserved - elsewhere, 0)}]."
                    )
            db.execute(
                "INSERT INTO provisioned_concurrency (name, qualifier, requested, last_modified)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(name, qualifier) DO UPDATE SET "
                "requested = excluded.requested, last_modified = excluded.last_modified",
                (name, qualifier, requested, stamp),
            )
        return stamp

    def get(self, name: str, qualifier: str) -> tuple[int, str] | None:
        """(requested, last modified) of the configuration, or None."""
        rows = self._store.rows(
            "SELECT requested, last_modified FROM provisioned_concurrency "
            "WHERE name = ? AND qualifier = ?",
            name,
            qualifier,
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def list(self, name: str | None = None) -> list[tuple[str, str, int, str]]:
        """(name, qualifier, requested, last modified) of every configuration (of one
        function), by name and qualifier."""
        sql = "SELECT name, qualifier, requested, last_modified FROM provisioned_concurrency"
        rows = (
            self._store.rows(sql + " WHERE name = ? ORDER BY qualifier", name)
            if name is not None
            else self._store.rows(sql + " ORDER BY name, qualifier")
        )
        return [(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]

    def total(self, name: str) -> int:
        """The function's provisioned concurrency over all its versions and aliases."""
        rows = self._store.rows(
            "SELECT COALESCE(SUM(requested), 0) FROM provisioned_concurrency WHERE name = ?", name
        )
        return int(rows[0][0])

    def delete(self, name: str, qualifier: str) -> bool:
        """Forget the configuration; False when there was none."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?",
                (name, qualifier),
            )
        return cursor.rowcount > 0


def _rows(db: sqlite3.Connection, name: str, *, exclude: str) -> list[tuple[str, int]]:
    return [
        (str(row[0]), int(row[1]))
        for row in db.execute(
            "SELECT qualifier, requested FROM provisioned_concurrency "
            "WHERE name = ? AND qualifier != ?",
            (name, exclude),
        )
    ]


def _versions_of(db: sqlite3.Connection, store: Store, name: str, qualifier: str) -> set[str]:
    """The versions a qualifier serves (an alias: its version and its weighted ones)."""
    if not db.execute("SELECT 1 FROM functions WHERE name = ?", (name,)).fetchone():
        raise ResourceNotFound(f"Function not found: {store.arn(name)}")
    if qualifier.isdigit():
        if not db.execute(
            "SELECT 1 FROM versions WHERE name = ? AND version = ?", (name, int(qualifier))
        ).fetchone():
            raise ResourceNotFound(f"Function not found: {store.arn(name, qualifier)}")
        return {qualifier}
    try:
        alias = store.alias(name, qualifier)
    except ResourceNotFound:
        raise ResourceNotFound(f"Function not found: {store.arn(name, qualifier)}") from None
    return {alias.function_version, *alias.weights}
