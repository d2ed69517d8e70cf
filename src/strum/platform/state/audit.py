"""The audit log: who called which control-plane operation on what, and the decision.

One row per authorised or refused call - time, caller ARN, access key id, IAM action,
resource ARN, allowed or denied (and why), source address - in SQLite (``home.audit_db``,
WAL). It is bounded: past ``MAX_ROWS`` the oldest rows go, so a flood of refused
requests cannot fill the disk. Like function logs, entries are committed in batches a
moment after they are recorded (``FLUSH_DELAY_S``), so no request waits for a disk write;
``query`` and ``close`` flush first, and a crash loses at most that moment's entries.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["AuditEntry", "AuditLog"]

MAX_ROWS = 200_000
_TRIM_EVERY = 1000
FLUSH_DELAY_S = 0.2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    principal TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    decision TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
"""


@dataclass(frozen=True)
class AuditEntry:
    """One decision. ``decision`` is ``allowed``, or ``denied: <AWS error code>``."""

    time: float
    principal: str
    access_key_id: str
    action: str
    resource: str
    decision: str
    source: str

    def public(self) -> dict[str, object]:
        return asdict(self)


class AuditLog:
    """The audit log of one platform home."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._writes = 0
        self._pending: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        """Append one entry; it is committed with the others of the next moment."""
        with self._lock:
            self._pending.append(entry)
            first = len(self._pending) == 1
        if not first:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop to wait on (a script, a test): write it now
            return
        loop.call_later(FLUSH_DELAY_S, self.flush)

    def flush(self) -> None:
        """Commit what was recorded (and now and then drop what is past ``MAX_ROWS``)."""
        with self._lock:
            entries, self._pending = self._pending, []
            if not entries:
                return
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO audit (time, principal, access_key_id, action, resource, decision,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.time,
                        e.principal,
                        e.access_key_id,
                        e.action,
                        e.resource,
                        e.decision,
                        e.source,
                    )
                    for e in entries
                ],
            )
            self._db.execute("COMMIT")
            before, self._writes = self._writes, self._writes + len(entries)
            if before // _TRIM_EVERY != self._writes // _TRIM_EVERY:
                self._db.execute(
                    "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", (MAX_ROWS,)
                )

    def query(self, *, since: float | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Entries from ``since`` (epoch seconds; default: the last hour), oldest first."""
        start = time.time() - 3600 if since is None else since
        self.flush()
        with self._lock:
            rows = self._db.execute(
                "SELECT time, principal, access_key_id, action, resource, decision, source"
                " FROM audit WHERE time >= ? ORDER BY id DESC LIMIT ?",
                (start, limit),
            ).fetchall()
        return [AuditEntry(*row) for row in reversed(rows)]

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()
