"""Function logs: every line an instance writes, plus the platform's START/END/REPORT lines.

Entries go to SQLite (``home.logs_db``, WAL) in batches: the invocation path only appends
to a list, and a timer commits the list a moment later, so no request waits for a disk
write. ``query`` flushes first, so it always sees everything appended so far; ``follow``
streams new entries as they are appended (``strum tail``).

The line formats are AWS's (see DESIGN.md), because tools parse them::

    START RequestId: <id> Version: <v>
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t
    Max Memory Used: 48 MB\tInit Duration: 80.12 ms
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# How long appended entries may wait before they are committed. Short enough that a
# crash of the platform loses at most this much log, long enough to batch a burst.
FLUSH_DELAY_S = 0.1
# AWS's LogType=Tail returns the last 4 KB of the invocation's log.
TAIL_BYTES = 4096
# CloudWatch Logs caps one event at 256 KB; longer lines are split.
MAX_LINE_BYTES = 256 * 1024

_COLUMNS = ("id", "time", "function", "version", "request_id", "stream", "message")
Entry = tuple[int, float, str, str, str, str, str]


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
    restore_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """AWS's REPORT line; ``Init Duration`` only on a cold start (``Restore Duration``
    for an instance forked from a template, as SnapStart's), ``Status`` on failures."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    if restore_ms is not None:
        # SnapStart's REPORT: the restore instead of the init, and what of it is billed.
        line += f"\tRestore Duration: {restore_ms:.2f} ms"
        line += f"\tBilled Restore Duration: {math.ceil(restore_ms)} ms"
    if status is not None:
        line += f"\tStatus: {status}"
        if error_type is not None:
            line += f"\tError Type: {error_type}"
    return line


def tail_of(lines: list[str]) -> str:
    """The last 4 KB of an invocation's log, cut on a character boundary."""
    encoded = ("\n".join(lines) + "\n").encode("utf-8")
    return encoded[-TAIL_BYTES:].decode("utf-8", errors="ignore")


def _as_dict(row: Entry) -> dict[str, Any]:
    return dict(zip(_COLUMNS, row, strict=True))


class LogStore:
    """The platform's function logs: batched SQLite writes, queries and live followers.

    Used from the platform's event loop only (appends arm a loop timer); ``close()`` commits
    whatever is pending.
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Logs are not acknowledged data: losing the last batch on power loss is fine.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS logs (id INTEGER PRIMARY KEY, time REAL NOT NULL,"
            " function TEXT NOT NULL, version TEXT NOT NULL, request_id TEXT NOT NULL,"
            " stream TEXT NOT NULL, message TEXT NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS logs_by_function ON logs (function, time)")
        (last,) = self._db.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()
        self._next_id = int(last) + 1
        self._pending: list[Entry] = []
        # The loop appends and commits; a query may come from another thread (an
        # embedding program, the tests). One lock keeps the batch and the connection
        # whole: uncontended it costs well under a microsecond per line.
        self._lock = threading.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._followers: dict[str, set[asyncio.Queue[Entry]]] = {}

    def append(
        self, function: str, version: str, request_id: str, stream: str, message: str
    ) -> None:
        """Record one line now; it is committed within ``FLUSH_DELAY_S``."""
        with self._lock:
            entry = (self._next_id, time.time(), function, version, request_id, stream, message)
            self._next_id += 1
            self._pending.append(entry)
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self.flush)
        followers = self._followers.get(function)
        if followers:
            for queue in followers:
                queue.put_nowait(entry)

    def flush(self) -> None:
        """Commit pending entries in one transaction."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", pending)
        except sqlite3.Error:
            logger.exception("could not store %d log entries", len(pending))

    def query(
        self,
        function_name: str,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Entries of one function in ``[since, until)`` (epoch seconds), oldest first.

        When more than ``limit`` match, the most recent ``limit`` are returned (like
        ``tail -n``). Each entry: id, time, function, version, request_id, stream, message.
        """
        with self._lock:
            self._flush_locked()
            rows = self._db.execute(
                "SELECT * FROM (SELECT * FROM logs WHERE function = ? AND time >= ? AND time < ?"
                " ORDER BY id DESC LIMIT ?) ORDER BY id",
                (
                    function_name,
                    since if since is not None else 0.0,
                    until if until is not None else float("inf"),
                    max(0, limit),
                ),
            ).fetchall()
        return [_as_dict(row) for row in rows]

    async def follow(
        self, function_name: str, since: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Entries from ``since`` (default: now) on, then each new one as it is written."""
        queue: asyncio.Queue[Entry] = asyncio.Queue()
        followers = self._followers.setdefault(function_name, set())
        followers.add(queue)
        try:
            last = 0
            if since is not None:
                for entry in self.query(function_name, since, None, 10_000):
                    last = entry["id"]
                    yield entry
            while True:
                row = await queue.get()
                if row[0] > last:
                    yield _as_dict(row)
        finally:
            followers.discard(queue)
            if not followers:
                self._followers.pop(function_name, None)

    def close(self) -> None:
        self.flush()
        self._db.close()
