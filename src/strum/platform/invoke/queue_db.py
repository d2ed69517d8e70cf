"""The async queue's database: its schema, its rows and its connections (SQLite, WAL)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SCHEMA", "QueuedEvent", "connect", "dead_letter_filter"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    request_id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    enqueued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready',
    last_error TEXT,
    scope TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (state, due_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    request_id TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    enqueued_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    error TEXT
);
"""


@dataclass(frozen=True)
class QueuedEvent:
    """One event row, as the queue and its inspection methods see it."""

    request_id: str
    function_name: str
    qualifier: str | None
    payload: bytes
    enqueued_at: float
    attempts: int
    throttles: int
    due_at: float
    state: str
    last_error: str | None
    # "<region> <account>": where the ARNs of the request that queued it pointed.
    scope: str | None = None


def connect(path: Path, synchronous: str) -> sqlite3.Connection:
    """A connection to the queue's database (``synchronous``: FULL or NORMAL)."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit returns only after the WAL is synced, so an acknowledged event survives
    # power loss, not only a crash of the process. NORMAL (in WAL mode): no sync per commit.
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(SCHEMA)
    if "scope" not in {row[1] for row in db.execute("PRAGMA table_info(events)")}:
        db.execute("ALTER TABLE events ADD COLUMN scope TEXT")  # a queue from before scopes
    # The connection commits through `with db:` blocks from here on.
    db.isolation_level = "DEFERRED"
    return db


def dead_letter_filter(
    sql: str, name: str | None, request_ids: list[str] | None
) -> tuple[str, tuple[str, ...]]:
    """``sql`` narrowed to one function and / or some request ids."""
    clauses, args = [], []
    if name is not None:
        clauses.append("function_name = ?")
        args.append(name)
    if request_ids is not None:
        clauses.append(f"request_id IN ({', '.join('?' * len(request_ids))})")
        args.extend(request_ids)
    return (sql + " WHERE " + " AND ".join(clauses) if clauses else sql), tuple(args)
