"""The durable queue behind ``InvocationType=Event``: acknowledged means on disk.

``enqueue`` returns only once the event's row is committed (SQLite, WAL,
``synchronous=FULL``), so the 202 a caller sees survives a crash or ``kill -9``. Workers
deliver each event through the invoker (given to ``start``) as a synchronous invocation with the
event's own request id (the same id on every attempt, as on AWS):

- success -> the row is deleted;
- a function error -> retried ``max_retries`` times (AWS: 2), the first after about a
  minute and the second after about two, each delay multiplied by
  ``settings.retry_delay_scale`` (tests shrink it);
- throttled, or the platform could not run it -> retried with backoff (1 s doubling to
  5 min, scaled too) until the event is older than ``max_event_age_s`` (AWS: 6 h);
- exhausted, too old, or its function gone -> an invocation record goes to the
  on-failure destination when one is configured, otherwise the event moves to the
  ``dead_letters`` table (``strum events dead`` lists it, ``strum events redrive`` queues it
  again).

A function's event-invoke config (``PutFunctionEventInvokeConfig``, per qualifier) sets the
retry count, the maximum age and the destinations. A destination is another function: its
invocation record (AWS's ``version`` 1.0 shape) is queued as a new event in the same
transaction that retires the original, so an outcome is never lost between the two.
``retry_delay_scale`` multiplies every async duration, the maximum age included.

Rows being delivered are marked ``inflight``; ``start`` turns any left over by a platform
that died into ``ready`` again, so each acknowledged event is delivered at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

__all__ = ["AsyncQueue", "Delivery", "QueuedEvent", "RetryPolicy"]

from strum.platform import arns
from strum.platform.errors import PlatformError, ResourceNotFound, TooManyRequests
from strum.platform.invoke.queue_db import QueuedEvent, connect, dead_letter_filter
from strum.platform.invoke.retries import (
    RETRY_DELAYS_S,
    THROTTLE_BACKOFF_MAX_S,
    THROTTLE_BACKOFF_START_S,
    RetryPolicy,
    error_type_of,
    invocation_record,
)
from strum.platform.settings import Settings
from strum.platform.spec import InvokeResult
from strum.platform.state import LATEST, Store, parse_function_name

logger = logging.getLogger(__name__)


class Delivery(Protocol):
    """What delivers the queue's events: the invoker, seen from here."""

    async def invoke(
        self,
        name: str,
        qualifier: str | None,
        payload: bytes,
        *,
        invocation_type: str = ...,
        request_id: str | None = ...,
    ) -> InvokeResult:
        """Run one synchronous invocation (see ``Invoker.invoke``)."""
        ...


class AsyncQueue:
    """The platform's queue of asynchronous invocations (see the module docstring).

    The queue stores events from construction on; it delivers them once ``start`` gives it
    the invoker - which is built on top of it, since an ``Event`` invocation lands here.
    """

    def __init__(
        self, path: Path, store: Store, settings: Settings, *, concurrency: int | None = None
    ) -> None:
        self.path = path
        self._store = store
        self._settings = settings
        self._delivery: Delivery | None = None
        self.concurrency = concurrency or max(1, min(settings.max_concurrency, 32))
        self._db: sqlite3.Connection | None = None
        self._fast: sqlite3.Connection | None = None
        # Inspection methods may run on other threads (tests, the CLI's status route).
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False
        # Deliveries under way (task -> function name) and how many each function has.
        self._deliveries: dict[asyncio.Task[None], str] = {}
        self._running: dict[str, int] = {}
        # Events waiting for the next group commit, and the task committing them.
        self._batch: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, delivery: Delivery) -> None:
        """Open the queue and deliver through ``delivery``; events in flight when the
        platform died go again."""
        self._delivery = delivery
        with self._lock, self._connection(durable=False) as db:
            resumed = db.execute(
                "UPDATE events SET state = 'ready' WHERE state = 'inflight'"
            ).rowcount
        if resumed:
            logger.info("redelivering %d event(s) that were in flight at the last stop", resumed)
        self._wake = asyncio.Event()
        self._stopping = False
        self._dispatcher = asyncio.get_running_loop().create_task(
            self._dispatch(), name="strum-asyncq"
        )

    async def stop(self) -> None:
        """Stop delivering. Events being delivered stay ``inflight`` for the next start."""
        tasks = [t for t in (self._dispatcher, *self._deliveries) if t is not None]
        # The flag as well as the cancel: on Python 3.11 a wait_for whose wait completes as
        # it is cancelled can swallow the cancellation, and the dispatcher would go on.
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._committer is not None:
            # Acknowledgements under way are kept: let their commit finish first.
            await asyncio.gather(self._committer, return_exceptions=True)
            self._committer = None
        self._dispatcher = None
        self._deliveries.clear()
        self._running.clear()
        with self._lock:
            for db in (self._db, self._fast):
                if db is not None:
                    db.close()
            self._db = self._fast = None

    # -- the API ------------------------------------------------------------------------

    async def enqueue(
        self, name: str, qualifier: str | None, payload: bytes, request_id: str
    ) -> None:
        """Store an event; returns once it is committed to disk.

        Group commit: events that arrive while a commit is under way wait for the next one
        and share its fsync, which runs on a worker thread so the event loop keeps serving.
        """
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()
        now = time.time()
        scope = self._store.scope()
        row = (request_id, name, qualifier, payload, now, now, f"{scope.region} {scope.account}")
        self._batch.append((row, committed))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._commit_batches(), name="strum-asyncq-commit")
        await asyncio.shield(committed)

    async def _commit_batches(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            try:
                await asyncio.to_thread(self._insert, [row for row, _ in batch])
            except Exception as exc:  # each waiting Invoke answers with the error
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(exc)
                continue
            for _, committed in batch:
                if not committed.done():
                    committed.set_result(None)
            if self._wake is not None:
                self._wake.set()

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        with self._lock, self._connection() as db:
            db.executemany(
                "INSERT INTO events (request_id, function_name, qualifier, payload, "
                "enqueued_at, due_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def policy_for(self, name: str, qualifier: str | None) -> RetryPolicy:
        """The retry policy of ``name`` at ``qualifier``: its event-invoke config."""
        return RetryPolicy.from_config(self._store.event_invoke_config(name, qualifier or LATEST))

    def pending(self) -> list[QueuedEvent]:
        """Events not delivered yet (ready or in flight), oldest first."""
        with self._lock:
            rows = (
                self._connection().execute("SELECT * FROM events ORDER BY enqueued_at").fetchall()
            )
        return [QueuedEvent(**dict(row)) for row in rows]

    def dead_letters(
        self, name: str | None = None, request_ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Events given up on, oldest first: request_id, function_name, qualifier, payload,
        enqueued_at, failed_at, attempts, reason, error. ``name`` and ``request_ids``
        narrow the answer."""
        sql, args = dead_letter_filter("SELECT * FROM dead_letters", name, request_ids)
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY failed_at", args).fetchall()
        return [dict(row) for row in rows]

    def redrive(self, name: str | None = None, request_ids: list[str] | None = None) -> list[str]:
        """Queue dead letters again as fresh events (same request id, no attempts, a new
        age); answers the request ids moved. One transaction: a letter is either still
        dead or queued, never both or neither."""
        now = time.time()
        with self._lock, self._connection() as db:
            select, args = dead_letter_filter(
                "SELECT request_id FROM dead_letters", name, request_ids
            )
            moved = [row[0] for row in db.execute(select, args)]
            db.executemany(
                "INSERT INTO events (request_id, function_name, qualifier, payload, "
                "enqueued_at, due_at) SELECT request_id, function_name, qualifier, payload, "
                "?, ? FROM dead_letters WHERE request_id = ?",
                [(now, now, request_id) for request_id in moved],
            )
            db.executemany(
                "DELETE FROM dead_letters WHERE request_id = ?", [(rid,) for rid in moved]
            )
        if moved and self._wake is not None:
            self._wake.set()
        return moved

    def discard(self, name: str | None = None, request_ids: list[str] | None = None) -> int:
        """Delete dead letters for good; answers how many."""
        sql, args = dead_letter_filter("DELETE FROM dead_letters", name, request_ids)
        with self._lock, self._connection() as db:
            return int(db.execute(sql, args).rowcount)

    # -- delivery -----------------------------------------------------------------------

    async def _dispatch(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            delay = self._start_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def _start_due(self) -> float | None:
        """Start deliveries of due events; return how long until the next one is due
        (None: until something wakes the dispatcher - an enqueue or a finished delivery).

        A function with reserved concurrency R gets at most R deliveries at once: more would
        only be throttled and sent into backoff, delaying them by seconds or minutes. (R = 0
        is left to the throttle path, so its events age out as on AWS.)
        """
        free = self.concurrency - len(self._deliveries)
        if free <= 0:
            return None  # a finishing delivery wakes the dispatcher
        now = time.time()
        caps: dict[str, int | None] = {}
        chosen: list[sqlite3.Row] = []
        held_back = False
        with self._lock, self._connection(durable=False) as db:
            # A wider window than `free`, so one capped function does not hide the others.
            window = db.execute(
                "SELECT * FROM events WHERE state = 'ready' AND due_at <= ? "
                "ORDER BY due_at LIMIT ?",
                (now, free * 4 + 32),
            ).fetchall()
            for row in window:
                name = row["function_name"]
                if name not in caps:
                    caps[name] = self._store.concurrency(name) or None
                cap = caps[name]
                if cap is not None and self._running.get(name, 0) >= cap:
                    held_back = True
                    continue
                chosen.append(row)
                self._running[name] = self._running.get(name, 0) + 1
                if len(chosen) == free:
                    break
            db.executemany(
                "UPDATE events SET state = 'inflight' WHERE request_id = ?",
                [(row["request_id"],) for row in chosen],
            )
            following = None
            if len(chosen) < free and not held_back:
                following = db.execute(
                    "SELECT MIN(due_at) FROM events WHERE state = 'ready'"
                ).fetchone()[0]
        loop = asyncio.get_running_loop()
        for row in chosen:
            task = loop.create_task(self._deliver(QueuedEvent(**dict(row))))
            self._deliveries[task] = row["function_name"]
            task.add_done_callback(self._delivered)
        if following is None:
            return None
        return max(0.001, float(following) - now)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        name = self._deliveries.pop(task, None)
        if name is not None:
            left = self._running.get(name, 1) - 1
            if left > 0:
                self._running[name] = left
            else:
                self._running.pop(name, None)
        if self._wake is not None:
            self._wake.set()

    async def _deliver(self, event: QueuedEvent) -> None:
        # The invocation and its records name the ARNs the queuing request named.
        region, _, account = (event.scope or "").partition(" ")
        scope = arns.Scope(region, account) if account else self._store.default_scope
        with arns.scoped(scope):
            await self._deliver_in_scope(event)

    async def _deliver_in_scope(self, event: QueuedEvent) -> None:
        assert self._delivery is not None, "AsyncQueue.start() first"
        policy = self.policy_for(event.function_name, event.qualifier)
        try:
            result = await self._delivery.invoke(
                event.function_name,
                event.qualifier,
                event.payload,
                invocation_type="RequestResponse",
                request_id=event.request_id,
            )
        except TooManyRequests as exc:
            self._retry_throttled(event, policy, f"throttled: {exc}")
            return
        except ResourceNotFound as exc:
            # The function (and with it its event-invoke config) is gone: keep the event.
            self._finish(event, dead=("ResourceNotFound", exc.message, event.attempts))
            return
        except PlatformError as exc:
            self._failed(event, policy, exc.error_type, exc.message, event.attempts)
            return
        except Exception as exc:
            # The platform, not the function, failed: try again like a throttle.
            logger.exception("async invocation %s could not run", event.request_id)
            self._retry_throttled(event, policy, f"{type(exc).__name__}: {exc}")
            return
        if result.function_error is None:
            self._succeeded(event, policy, result)
            return
        error = result.payload.decode("utf-8", "replace")
        attempts = event.attempts + 1
        age = time.time() - event.enqueued_at
        if attempts > policy.max_retries:
            self._failed(event, policy, "RetriesExhausted", error, attempts, result)
            return
        delay = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1] * self._scale
        if age + delay > policy.max_event_age_s * self._scale:
            self._failed(event, policy, "EventAgeExceeded", error, attempts, result)
            return
        logger.info(
            "async invocation %s of %s failed (%s); retry %d in %.3f s",
            event.request_id, event.function_name, error_type_of(error), attempts, delay,
        )  # fmt: skip
        self._reschedule(event, attempts=attempts, throttles=event.throttles, delay=delay,
                         error=error)  # fmt: skip

    def _retry_throttled(self, event: QueuedEvent, policy: RetryPolicy, error: str) -> None:
        throttles = event.throttles + 1
        delay = min(THROTTLE_BACKOFF_START_S * 2 ** (throttles - 1), THROTTLE_BACKOFF_MAX_S)
        delay *= self._scale
        if time.time() - event.enqueued_at + delay > policy.max_event_age_s * self._scale:
            self._failed(event, policy, "EventAgeExceeded", error, event.attempts)
            return
        self._reschedule(
            event, attempts=event.attempts, throttles=throttles, delay=delay, error=error
        )

    @property
    def _scale(self) -> float:
        return float(self._settings.retry_delay_scale)

    def _reschedule(
        self, event: QueuedEvent, *, attempts: int, throttles: int, delay: float, error: str
    ) -> None:
        with self._lock, self._connection(durable=False) as db:
            db.execute(
                "UPDATE events SET state = 'ready', attempts = ?, throttles = ?, due_at = ?, "
                "last_error = ? WHERE request_id = ?",
                (attempts, throttles, time.time() + delay, error, event.request_id),
            )

    def _succeeded(self, event: QueuedEvent, policy: RetryPolicy, result: InvokeResult) -> None:
        """The event ran: forget it, sending its record to the on-success destination."""
        record = None
        if policy.on_success:
            record = (
                policy.on_success,
                invocation_record(event, self._arn(event), "Success", event.attempts + 1, result),
            )
        self._finish(event, destination=record)

    def _failed(
        self,
        event: QueuedEvent,
        policy: RetryPolicy,
        reason: str,
        error: str,
        attempts: int,
        result: InvokeResult | None = None,
    ) -> None:
        """Retries are over: the record goes to the on-failure destination, or the event
        to the dead letters."""
        logger.warning(
            "async invocation %s of %s given up: %s (%d failed attempt(s))%s",
            event.request_id, event.function_name, reason, attempts,
            f"; record sent to {policy.on_failure}" if policy.on_failure else "",
        )  # fmt: skip
        if policy.on_failure:
            record = invocation_record(
                event, self._arn(event), reason, max(attempts, 1), result, error
            )
            self._finish(event, destination=(policy.on_failure, record))
        else:
            self._finish(event, dead=(reason, error, attempts))

    def _arn(self, event: QueuedEvent) -> str:
        return self._store.arn(event.function_name, event.qualifier or LATEST)

    def _finish(
        self,
        event: QueuedEvent,
        *,
        destination: tuple[str, bytes] | None = None,
        dead: tuple[str, str, int] | None = None,
    ) -> None:
        """Retire ``event`` and, in the same transaction, queue its destination record or
        keep it as a dead letter (reason, error, attempts)."""
        now = time.time()
        with self._lock, self._connection(durable=False) as db:
            if destination is not None:
                target, record = destination
                name, qualifier = parse_function_name(target)
                db.execute(
                    "INSERT INTO events (request_id, function_name, qualifier, payload, "
                    "enqueued_at, due_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (str(uuid.uuid4()), name, qualifier, record, now, now, event.scope),
                )
            if dead is not None:
                reason, error, attempts = dead
                db.execute(
                    "INSERT OR REPLACE INTO dead_letters (request_id, function_name, "
                    "qualifier, payload, enqueued_at, failed_at, attempts, reason, error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event.request_id, event.function_name, event.qualifier, event.payload,
                     event.enqueued_at, now, attempts, reason, error),
                )  # fmt: skip
            db.execute("DELETE FROM events WHERE request_id = ?", (event.request_id,))
        if destination is not None and self._wake is not None:
            self._wake.set()

    def _connection(self, *, durable: bool = True) -> sqlite3.Connection:
        """The durable connection (each commit fsync'd: what a 202 or a user action
        promises), or the fast one for the queue's own bookkeeping (marking in flight,
        rescheduling, retiring), whose commits survive a crash of the process but may be
        undone by a power loss - which only means an event is delivered again."""
        # Opened on first use: an Event invocation accepted while the platform is still
        # starting or already stopping is stored all the same, for the next start.
        if durable:
            if self._db is None:
                self._db = connect(self.path, "FULL")
            return self._db
        if self._fast is None:
            self._fast = connect(self.path, "NORMAL")
        return self._fast
