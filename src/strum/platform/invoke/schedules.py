"""Schedules on the platform: EventBridge rules that fire async invocations on time.

Rules live in SQLite (``schedules.db``, WAL, ``synchronous=FULL``), one row per rule:
its name (``<function>-<schedule>``, whose suffix the entry router matches), the function
and qualifier it invokes, its expression, whether it is enabled and ``last_fired`` - the
latest tick accounted for (fired, or the moment the rule was created or changed, so a rule
never fires for ticks before it existed).

A single task sleeps until the earliest next tick across the enabled rules (at most
``MAX_WAIT_S``, and woken early by rule changes or a test's clock), then enqueues one
``Scheduled Event`` per due rule through the invoker (an ``Event`` invocation) and records
the tick. Guarantees:

- at most once per tick, even across restarts: a tick <= ``last_fired`` never fires. The
  event's request id is derived from (rule, tick), so a crash between the enqueue and the
  ``last_fired`` update re-offers the same id, which the queue refuses while it still holds
  the event;
- a platform that was down over several ticks fires once, for the latest missed tick, and
  logs how many were missed (EventBridge does not catch up either).

The clock is injectable (``now``) and ``wake()`` interrupts the wait, so tests move time
instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from strum.platform import arns
from strum.platform.invoke.invoker import Invoker
from strum.platform.settings import Settings
from strum.schedule import Cron, Rate, next_fire_times, parse_expression

logger = logging.getLogger(__name__)

__all__ = ["Rule", "Scheduler", "iso_time", "utc_now"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rules (
    name TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier TEXT,
    expression TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    last_fired TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rules_function ON rules (function_name);
"""

# The longest the loop sleeps without looking again: bounds the effect of a clock jump.
MAX_WAIT_S = 60.0
# Counting missed cron ticks walks them; past this many the log says "at least".
_MISSED_COUNT_LIMIT = 100_000
_NAMESPACE = uuid.UUID("6f1c1f0e-8a43-4a7e-9a56-5c2f3e0b7d21")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock (UTC, timezone-aware)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Rule:
    """One stored schedule rule."""

    name: str
    function_name: str
    qualifier: str | None
    expression: str
    enabled: bool
    last_fired: datetime

    def next_fire(self, now: datetime | None = None) -> datetime | None:
        """The first tick after ``last_fired`` (and after ``now`` when given); None when
        disabled or a cron's years ran out."""
        if not self.enabled:
            return None
        after = self.last_fired if now is None else max(self.last_fired, now)
        fire = next_fire_times(self.expression, after, 1)
        return fire[0] if fire else None


class Scheduler:
    """The platform's schedule rules and the task that fires them (see the module docstring)."""

    def __init__(
        self, path: Path, settings: Settings, invoker: Invoker, *, now: Clock = utc_now
    ) -> None:
        self.path = path
        self._settings = settings
        self._invoker = invoker
        self.now = now
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._firing = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the rules and start firing them (missed ticks first)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = self._loop.create_task(self._run(), name="strum-scheduler")

    async def stop(self) -> None:
        """Stop firing; rules and their ``last_fired`` stay on disk."""
        if self._task is not None:
            # Python 3.11's wait_for swallows a cancellation that lands as the wake event is
            # set (gh-86296), and the loop would then sleep on: cancel until it is done.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.5)
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None

    def wake(self) -> None:
        """Look at the rules and the clock again now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- rules --------------------------------------------------------------------------

    def rules(self, function_name: str | None = None) -> list[Rule]:
        """Stored rules, of one function or all, by name."""
        sql = "SELECT * FROM rules"
        args: tuple[str, ...] = ()
        if function_name is not None:
            sql, args = sql + " WHERE function_name = ?", (function_name,)
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY name", args).fetchall()
        return [_rule(row) for row in rows]

    def replace(
        self, function_name: str, qualifier: str | None, rules: list[tuple[str, str, bool]]
    ) -> list[Rule]:
        """Make ``function_name``'s rules exactly ``rules`` (name, expression, enabled).

        Expressions are validated first (``ValueError`` naming the rule). A rule kept with
        the same expression and state keeps its ``last_fired``; a new or changed one starts
        counting from now, so it never fires for a tick before it existed.
        """
        for name, expression, _ in rules:
            try:
                parse_expression(expression)
            except ValueError as exc:
                raise ValueError(f"schedule rule {name!r}: {exc}") from None
        now = iso_time(self.now())
        with self._lock, self._connection() as db:
            existing = {
                row["name"]: row
                for row in db.execute(
                    "SELECT * FROM rules WHERE function_name = ?", (function_name,)
                )
            }
            db.execute("DELETE FROM rules WHERE function_name = ?", (function_name,))
            for name, expression, enabled in rules:
                old = existing.get(name)
                unchanged = (
                    old is not None
                    and old["expression"] == expression
                    and bool(old["enabled"]) == enabled
                    and old["qualifier"] == qualifier
                )
                db.execute(
                    "INSERT OR REPLACE INTO rules (name, function_name, qualifier, expression, "
                    "enabled, last_fired) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, function_name, qualifier, expression, int(enabled),
                     old["last_fired"] if unchanged and old is not None else now),
                )  # fmt: skip
        self.wake()
        return self.rules(function_name)

    def forget(self, function_name: str) -> None:
        """Drop every rule of a deleted function."""
        with self._lock, self._connection() as db:
            db.execute("DELETE FROM rules WHERE function_name = ?", (function_name,))
        self.wake()

    # -- firing -------------------------------------------------------------------------

    async def fire_due(self) -> list[tuple[str, datetime]]:
        """Fire every enabled rule with a tick in (last_fired, now]; (rule, tick) per fire."""
        async with self._firing:
            now = self.now()
            fired: list[tuple[str, datetime]] = []
            for rule in self.rules():
                if not rule.enabled:
                    continue
                tick, count = _latest_tick(rule, now)
                if tick is None:
                    continue
                if count > 1:
                    more = "at least " if count >= _MISSED_COUNT_LIMIT else ""
                    logger.warning(
                        "schedule %s missed %s%d ticks (the platform was down or busy); "
                        "firing once for the latest, %s",
                        rule.name, more, count, iso_time(tick),
                    )  # fmt: skip
                await self._fire(rule, tick)
                fired.append((rule.name, tick))
            return fired

    async def _fire(self, rule: Rule, tick: datetime) -> None:
        event_id = str(uuid.uuid5(_NAMESPACE, f"{rule.name}@{iso_time(tick)}"))
        payload = json.dumps(self.scheduled_event(rule.name, tick, event_id)).encode()
        try:
            await self._invoker.enqueue_unresolved(
                rule.function_name, rule.qualifier, payload, event_id
            )
        except sqlite3.IntegrityError:
            # Enqueued by a run that died before recording the tick; still queued.
            logger.info("schedule %s tick %s was already queued", rule.name, iso_time(tick))
        with self._lock, self._connection() as db:
            db.execute(
                "UPDATE rules SET last_fired = ? WHERE name = ? AND last_fired < ?",
                (iso_time(tick), rule.name, iso_time(tick)),
            )
        logger.info("schedule %s fired for %s", rule.name, iso_time(tick))

    def scheduled_event(self, rule_name: str, tick: datetime, event_id: str) -> dict[str, Any]:
        """EventBridge's ``Scheduled Event`` for ``rule_name`` at ``tick``."""
        settings = self._settings
        return {
            "version": "0",
            "id": event_id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": settings.account_id,
            "time": tick.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": settings.region,
            "resources": [arns.Scope(settings.region, settings.account_id).rule(rule_name)],
            "detail": {},
        }

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                await self.fire_due()
                delay = self._seconds_to_next()
            except Exception:
                logger.exception("the scheduler failed to fire; trying again shortly")
                delay = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def _seconds_to_next(self) -> float:
        ticks = [tick for rule in self.rules() if (tick := rule.next_fire()) is not None]
        if not ticks:
            return MAX_WAIT_S
        delay = (min(ticks) - self.now()).total_seconds()
        return min(MAX_WAIT_S, max(0.001, delay))

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = _connect(self.path)
        return self._db


def _latest_tick(rule: Rule, now: datetime) -> tuple[datetime | None, int]:
    """The latest tick in (last_fired, now] and how many ticks that interval holds."""
    parsed: Rate | Cron = parse_expression(rule.expression)
    if now <= rule.last_fired:
        return None, 0
    if isinstance(parsed, Rate):
        first = next_fire_times(parsed, rule.last_fired, 1)[0]
        if first > now:
            return None, 0
        count = (now - first) // parsed.interval + 1
        return first + parsed.interval * (count - 1), count
    latest, count, complete = _walk(parsed, rule.last_fired, now)
    if not complete:
        # Too many to walk (a minutely cron down for months): look back from now in
        # growing spans; the first span holding a tick holds the latest one.
        for span in (timedelta(hours=1), timedelta(days=1), timedelta(days=32)):
            tail, _, tail_complete = _walk(parsed, max(now - span, latest or now), now)
            if tail is not None and tail_complete:
                return tail, count
    return latest, count


def _walk(cron: Cron, after: datetime, until: datetime) -> tuple[datetime | None, int, bool]:
    """The latest cron tick in (after, until], how many were seen, and whether all were."""
    latest, count = None, 0
    while count < _MISSED_COUNT_LIMIT:
        batch = [t for t in next_fire_times(cron, after, 500) if t <= until]
        if batch:
            latest, count, after = batch[-1], count + len(batch), batch[-1]
        if len(batch) < 500:
            return latest, count, True
    return latest, count, False


def iso_time(moment: datetime) -> str:
    """``moment`` as the fixed-width UTC text rules are stored and shown with."""
    # Fixed width and UTC, so the stored text compares in time order.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parseiso_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _rule(row: sqlite3.Row) -> Rule:
    return Rule(
        name=row["name"],
        function_name=row["function_name"],
        qualifier=row["qualifier"],
        expression=row["expression"],
        enabled=bool(row["enabled"]),
        last_fired=_parseiso_time(row["last_fired"]),
    )


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: a recorded tick survives power loss, so it is never fired a second time.
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(_SCHEMA)
    db.isolation_level = "DEFERRED"
    return db
