"""Invocation metrics per function and minute: cheap to record, bounded in size.

The engine reports each finished invocation (duration, init duration when it was a cold
start, whether it failed) and each throttled one; they are added to the current minute's
``Minute`` of their function in memory - a handful of counters and a fixed histogram of
durations (log-spaced bounds), so percentiles cost no sample list. A minute is written to
one small SQLite table (in the store's database) once it is over, and the table keeps the
last ``KEEP_MINUTES`` only: a function costs at most that many rows, whatever its traffic.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from strum.platform.state.store import Store

__all__ = ["BOUNDS_MS", "KEEP_MINUTES", "InvocationMetrics", "Minute"]

KEEP_MINUTES = 24 * 60
# Histogram bucket upper bounds in ms: 0.1 ms .. 15 min, 8 per decade (~33 % wide).
BOUNDS_MS = tuple(round(0.1 * 10 ** (i / 8), 4) for i in range(8 * 7 + 1))

SCHEMA = """
CREATE TABLE IF NOT EXISTS invocation_minutes (
    function TEXT NOT NULL,
    minute INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (function, minute)
);
"""


def _bucket(duration_ms: float) -> int:
    if duration_ms <= BOUNDS_MS[0]:
        return 0
    index = math.ceil(8 * math.log10(duration_ms / 0.1))
    return min(index, len(BOUNDS_MS))


@dataclass
class Minute:
    """One function's invocations in one minute."""

    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    init_ms_total: float = 0.0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, duration_ms: float, init_ms: float | None, error: bool) -> None:
        self.invocations += 1
        self.errors += int(error)
        if init_ms is not None:
            self.cold_starts += 1
            self.init_ms_total += init_ms
        bucket = _bucket(duration_ms)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + 1

    def percentile(self, fraction: float) -> float | None:
        """The duration (ms, a bucket's upper bound) ``fraction`` of invocations stay under."""
        total = sum(self.histogram.values())
        if not total:
            return None
        wanted = fraction * total
        seen = 0
        for bucket in sorted(self.histogram):
            seen += self.histogram[bucket]
            if seen >= wanted:
                return BOUNDS_MS[min(bucket, len(BOUNDS_MS) - 1)]
        return BOUNDS_MS[-1]  # pragma: no cover - the loop always reaches ``total``

    def to_json(self) -> str:
        document = {**self.__dict__, "histogram": {str(k): v for k, v in self.histogram.items()}}
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Minute:
        document = json.loads(text)
        document["histogram"] = {int(k): int(v) for k, v in document["histogram"].items()}
        return cls(**document)


class InvocationMetrics:
    """The per-minute aggregates of every function (see the module)."""

    def __init__(self, store: Store, *, clock: Any = time.time) -> None:
        self._store = store
        self._clock = clock
        self._current: dict[str, tuple[int, Minute]] = {}
        with store.transaction() as db:
            db.execute(SCHEMA)

    def completed(
        self, function: str, duration_ms: float, init_ms: float | None, error: bool
    ) -> None:
        """Count one finished invocation."""
        self._minute(function).add(duration_ms, init_ms, error)

    def throttled(self, function: str) -> None:
        """Count one invocation refused for concurrency (429 TooManyRequestsException)."""
        self._minute(function).throttles += 1

    def _minute(self, function: str) -> Minute:
        now = int(self._clock() // 60)
        held = self._current.get(function)
        if held is not None and held[0] == now:
            return held[1]
        if held is not None:
            self._write(function, *held)
        minute = Minute()
        self._current[function] = (now, minute)
        return minute

    def _write(self, function: str, number: int, minute: Minute) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO invocation_minutes VALUES (?, ?, ?)",
                (function, number, minute.to_json()),
            )
            # Every function's old minutes, those of deleted functions too.
            db.execute("DELETE FROM invocation_minutes WHERE minute <= ?", (number - KEEP_MINUTES,))

    def flush(self) -> None:
        """Write the minutes in progress (at shutdown)."""
        for function, held in list(self._current.items()):
            self._write(function, *held)

    def series(self, function: str, minutes: int) -> dict[str, list[Any]]:
        """The last ``minutes`` minutes of ``function`` as columns, one entry per minute
        (epoch seconds in ``time``; an idle minute has zeros and no percentiles)."""
        minutes = max(1, min(minutes, KEEP_MINUTES))
        now = int(self._clock() // 60)
        first = now - minutes + 1
        stored = {
            int(row[0]): Minute.from_json(row[1])
            for row in self._store.rows(
                "SELECT minute, data FROM invocation_minutes WHERE function = ? AND minute >= ?",
                function,
                first,
            )
        }
        held = self._current.get(function)
        if held is not None and held[0] >= first:
            stored[held[0]] = held[1]
        columns: dict[str, list[Any]] = {
            key: []
            for key in (
                "time",
                "invocations",
                "errors",
                "throttles",
                "cold_starts",
                "p50",
                "p90",
                "p99",
                "init_ms",
            )
        }
        for number in range(first, now + 1):
            minute = stored.get(number) or Minute()
            columns["time"].append(number * 60)
            columns["invocations"].append(minute.invocations)
            columns["errors"].append(minute.errors)
            columns["throttles"].append(minute.throttles)
            columns["cold_starts"].append(minute.cold_starts)
            columns["p50"].append(minute.percentile(0.5))
            columns["p90"].append(minute.percentile(0.9))
            columns["p99"].append(minute.percentile(0.99))
            columns["init_ms"].append(
                round(minute.init_ms_total / minute.cold_starts, 2) if minute.cold_starts else None
            )
        return columns
