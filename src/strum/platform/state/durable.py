"""Durable executions' state: each execution, its operations (the checkpoints the SDK sent)
and its history, in their own SQLite database (``durable.db``).

The discipline is the async queue's: WAL with ``synchronous=FULL``, so a checkpoint the
platform acknowledged is on disk before the function hears back, and a platform killed
with ``kill -9`` resumes every execution from what it acknowledged. One connection, one
lock; every change is one transaction (``transaction``), and what the driver needs to
resume an execution (``wanted``: an invocation is owed; ``invoking``: one was in flight;
each operation's ``wake_at``: when the scheduler must act on it) is kept in the rows, never
only in memory.

Operations are kept in the shape ``GetDurableExecutionState`` answers with (``Id``,
``Type``, ``Status``, ``StepDetails``...), timestamps as epoch seconds; ``seq`` orders
changes, so a checkpoint answers exactly the operations the function has not seen yet.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DurableStore", "ExecutionRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    version TEXT NOT NULL,
    function_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    started REAL NOT NULL,
    ended REAL,
    timeout_s INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    token_seq INTEGER NOT NULL DEFAULT 0,
    op_seq INTEGER NOT NULL DEFAULT 0,
    seen_seq INTEGER NOT NULL DEFAULT 0,
    invoking INTEGER NOT NULL DEFAULT 0,
    wanted INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at REAL,
    UNIQUE (function_name, name)
);
CREATE INDEX IF NOT EXISTS executions_status ON executions (status);
CREATE TABLE IF NOT EXISTS operations (
    arn TEXT NOT NULL REFERENCES executions(arn) ON DELETE CASCADE,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    wake_at REAL,
    callback_id TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (arn, id)
);
CREATE INDEX IF NOT EXISTS operations_wake ON operations (wake_at);
CREATE INDEX IF NOT EXISTS operations_callback ON operations (callback_id);
CREATE TABLE IF NOT EXISTS events (
    arn TEXT NOT NULL REFERENCES executions(arn) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (arn, event_id)
);
"""

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"})


@dataclass(frozen=True)
class ExecutionRow:
    """One execution as stored (``error`` is the ErrorObject, parsed)."""

    arn: str
    function_name: str
    version: str
    function_arn: str
    name: str
    status: str
    input: str
    result: str | None
    error: dict[str, Any] | None
    started: float
    ended: float | None
    timeout_s: int
    retention_days: int
    token_seq: int
    op_seq: int
    seen_seq: int
    invoking: bool
    wanted: bool
    failures: int
    retry_at: float | None

    @property
    def execution_id(self) -> str:
        """The last segment of the ARN: the id of the EXECUTION operation, too."""
        return self.arn.rsplit("/", 1)[1]

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def _execution(row: sqlite3.Row) -> ExecutionRow:
    values = dict(row)
    values["error"] = json.loads(values["error"]) if values["error"] else None
    values["invoking"] = bool(values["invoking"])
    values["wanted"] = bool(values["wanted"])
    return ExecutionRow(**values)


class DurableStore:
    """Durable executions in ``durable.db`` (see the module)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a checkpoint is acknowledged only once the WAL is synced.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable write: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (synced)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- reads ---------------------------------------------------------------------------

    def execution(self, arn: str, db: sqlite3.Connection | None = None) -> ExecutionRow | None:
        with self._lock:
            row = (
                (db or self._db)
                .execute("SELECT * FROM executions WHERE arn = ?", (arn,))
                .fetchone()
            )
        return _execution(row) if row else None

    def by_name(self, function_name: str, name: str) -> ExecutionRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM executions WHERE function_name = ? AND name = ?",
                (function_name, name),
            ).fetchone()
        return _execution(row) if row else None

    def executions(self, function_name: str | None = None) -> list[ExecutionRow]:
        """Every execution (of one function), oldest first."""
        sql, args = "SELECT * FROM executions", tuple[str, ...]()
        if function_name is not None:
            sql, args = sql + " WHERE function_name = ?", (function_name,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY started, rowid", args).fetchall()
        return [_execution(row) for row in rows]

    def running(self) -> list[ExecutionRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM executions WHERE status = 'RUNNING' ORDER BY started"
            ).fetchall()
        return [_execution(row) for row in rows]

    def operations(
        self, arn: str, *, after_seq: int = 0, db: sqlite3.Connection | None = None
    ) -> list[dict[str, Any]]:
        """The execution's operations changed after ``after_seq``, in creation order."""
        with self._lock:
            rows = (
                (db or self._db)
                .execute(
                    "SELECT body FROM operations WHERE arn = ? AND seq > ? ORDER BY position",
                    (arn, after_seq),
                )
                .fetchall()
            )
        return [json.loads(row[0]) for row in rows]

    def operation(self, db: sqlite3.Connection, arn: str, op_id: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT body FROM operations WHERE arn = ? AND id = ?", (arn, op_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def by_callback(self, callback_id: str) -> tuple[str, str] | None:
        """The (execution ARN, operation id) a callback id belongs to."""
        with self._lock:
            row = self._db.execute(
                "SELECT arn, id FROM operations WHERE callback_id = ?", (callback_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def events(self, arn: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM events WHERE arn = ? ORDER BY event_id", (arn,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def next_wake(self) -> float | None:
        """The earliest moment the scheduler must act: an operation's wake time, an
        execution's timeout or invocation retry."""
        with self._lock:
            ops = self._db.execute(
                "SELECT MIN(o.wake_at) FROM operations o JOIN executions e ON e.arn = o.arn "
                "WHERE e.status = 'RUNNING' AND o.wake_at IS NOT NULL"
            ).fetchone()[0]
            timeouts = self._db.execute(
                "SELECT MIN(started + timeout_s), MIN(retry_at) FROM executions "
                "WHERE status = 'RUNNING'"
            ).fetchone()
            ended = self._db.execute(
                "SELECT MIN(ended + retention_days * 86400.0) FROM executions "
                "WHERE ended IS NOT NULL"
            ).fetchone()[0]
        candidates = [value for value in (ops, *timeouts, ended) if value is not None]
        return min(candidates) if candidates else None

    def due_operations(self, now: float) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT o.arn, o.id FROM operations o JOIN executions e ON e.arn = o.arn "
                "WHERE e.status = 'RUNNING' AND o.wake_at IS NOT NULL AND o.wake_at <= ?",
                (now,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    # -- writes (inside ``transaction``) ------------------------------------------------

    @staticmethod
    def insert_execution(db: sqlite3.Connection, **values: Any) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        db.execute(f"INSERT INTO executions ({columns}) VALUES ({marks})", tuple(values.values()))

    @staticmethod
    def update_execution(db: sqlite3.Connection, arn: str, **values: Any) -> None:
        if "error" in values and values["error"] is not None:
            values["error"] = json.dumps(values["error"])
        sets = ", ".join(f"{column} = ?" for column in values)
        db.execute(f"UPDATE executions SET {sets} WHERE arn = ?", (*values.values(), arn))

    @staticmethod
    def put_operation(
        db: sqlite3.Connection,
        arn: str,
        operation: dict[str, Any],
        *,
        wake_at: float | None,
        callback_id: str | None = None,
    ) -> int:
        """Store ``operation`` (new or changed) and answer the change's sequence number."""
        seq = int(
            db.execute(
                "UPDATE executions SET op_seq = op_seq + 1 WHERE arn = ? RETURNING op_seq", (arn,)
            ).fetchone()[0]
        )
        existing = db.execute(
            "SELECT position, callback_id FROM operations WHERE arn = ? AND id = ?",
            (arn, operation["Id"]),
        ).fetchone()
        if existing is None:
            position = int(
                db.execute(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM operations WHERE arn = ?", (arn,)
                ).fetchone()[0]
            )
        else:
            position, callback_id = existing[0], callback_id or existing[1]
        db.execute(
            "INSERT OR REPLACE INTO operations "
            "(arn, id, position, seq, status, wake_at, callback_id, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                arn,
                operation["Id"],
                position,
                seq,
                operation["Status"],
                wake_at,
                callback_id,
                json.dumps(operation),
            ),
        )
        return seq

    @staticmethod
    def add_event(db: sqlite3.Connection, arn: str, event: dict[str, Any]) -> None:
        next_id = int(
            db.execute(
                "SELECT COALESCE(MAX(event_id), 0) + 1 FROM events WHERE arn = ?", (arn,)
            ).fetchone()[0]
        )
        db.execute(
            "INSERT INTO events (arn, event_id, body) VALUES (?, ?, ?)",
            (arn, next_id, json.dumps({**event, "EventId": next_id})),
        )

    def prune(self, now: float) -> int:
        """Delete executions finished longer than their retention ago; answers how many."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM executions WHERE ended IS NOT NULL "
                "AND ended + retention_days * 86400.0 <= ?",
                (now,),
            )
            return cursor.rowcount
