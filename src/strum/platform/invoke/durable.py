"""Durable executions: AWS Lambda's durable functions (API 2025-12-01) on the platform.

Invoking a function whose configuration has a ``DurableConfig`` starts an execution
(``arn:...:function:NAME:VERSION/durable-execution/NAME/ID``, pinned to the version it
started on) and hands the function what AWS's SDK reads: ``DurableExecutionArn``,
``CheckpointToken`` and ``InitialExecutionState`` (every operation so far; the first is
the EXECUTION operation carrying the input). The SDK checkpoints each step, wait and
callback through ``CheckpointDurableExecution`` and answers ``{"Status": "SUCCEEDED" |
"FAILED" | "PENDING"}``. On PENDING the execution sleeps until the scheduler has
something for it - a wait ends, a step's retry is due, a callback arrives or times out -
and then invokes the function again, an ordinary invocation of the same version, which
replays from the checkpoints.

One driver task per execution runs its invocations one at a time; every fact it needs to
resume (``wanted``, ``invoking``, the operations' wake times) is in ``DurableStore``, so
after a restart - even ``kill -9`` - ``start`` re-invokes what was owed or in flight and
the scheduler resumes every wait. A checkpoint token is good for one checkpoint of the
invocation in flight: a stale one, or one for a finished execution, is refused
(``InvalidParameterValueException``), so a late checkpoint from an invocation that lost
its execution (stopped, timed out) never changes it. A function error (a crash, a timeout
of the invocation) is retried ``INVOCATION_RETRIES`` times, backing off, then fails the
execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from strum.platform.engine import Engine
from strum.platform.errors import InvalidParameterValue, PlatformError, ResourceNotFound
from strum.platform.invoke import durable_updates as updates_
from strum.platform.spec import FunctionSpec, InvokeResult
from strum.platform.state import Store
from strum.platform.state.durable import DurableStore, ExecutionRow

__all__ = ["INVOCATION_RETRIES", "DurableExecutions"]

logger = logging.getLogger(__name__)

INVOCATION_RETRIES = 3
_MAX_WAIT_S = 60.0


class DurableExecutions:
    """The platform's durable executions (see the module)."""

    def __init__(
        self,
        db: DurableStore,
        store: Store,
        engine: Engine,
        *,
        retry_delay_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self._store = store
        self._engine = engine
        self._scale = retry_delay_scale
        self._clock = clock
        self._drivers: dict[str, asyncio.Task[None]] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every running execution: what was in flight at a crash is invoked again."""
        for row in self.db.running():
            if row.invoking:
                with self.db.transaction() as db:
                    self.db.update_execution(db, row.arn, invoking=0, wanted=1)
            self._kick(row.arn)
        self._loop_task = asyncio.create_task(self._schedule(), name="strum-durable")

    async def stop(self) -> None:
        tasks = [task for task in (self._loop_task, *self._drivers.values()) if task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.db.close()

    # -- starting and waiting ------------------------------------------------------------

    async def begin(
        self, spec: FunctionSpec, payload: bytes, *, name: str | None, wait: bool
    ) -> InvokeResult:
        """Start an execution of ``spec`` (a durable function's version) with ``payload``;
        ``wait``: answer its result once it finishes (a RequestResponse invoke), else at once.
        An execution ``name`` the function has used already answers that execution."""
        assert spec.durable is not None
        timeout_s, retention_days = spec.durable
        name = name or str(uuid.uuid4())
        existing = self.db.by_name(spec.name, name)
        if existing is None:
            function_arn = spec.arn.rsplit(":", 1)[0] if spec.arn.count(":") > 6 else spec.arn
            function_arn = f"{function_arn}:{spec.version}"
            arn = f"{function_arn}/durable-execution/{name}/{uuid.uuid4().hex}"
            now = self._clock()
            text = (payload or b"{}").decode("utf-8", "replace")
            execution_op = {
                "Id": arn.rsplit("/", 1)[1],
                "Type": "EXECUTION",
                "Status": "STARTED",
                "StartTimestamp": now,
                "ExecutionDetails": {"InputPayload": text},
            }
            try:
                with self.db.transaction() as db:
                    self.db.insert_execution(
                        db,
                        arn=arn,
                        function_name=spec.name,
                        version=spec.version,
                        function_arn=function_arn,
                        name=name,
                        status="RUNNING",
                        input=text,
                        started=now,
                        timeout_s=timeout_s,
                        retention_days=retention_days,
                    )
                    self.db.put_operation(db, arn, execution_op, wake_at=None)
                    self.db.add_event(
                        db,
                        arn,
                        updates_.event(
                            "ExecutionStarted",
                            {"Id": execution_op["Id"], "Name": name},
                            now,
                            Input={"Payload": text, "Truncated": False},
                            ExecutionTimeout=timeout_s,
                        ),
                    )
            except sqlite3.IntegrityError:
                existing = self.db.by_name(spec.name, name)
            else:
                existing = self.db.execution(arn)
                self._kick(arn)
                self._wake.set()
        assert existing is not None
        result = InvokeResult(
            request_id=str(uuid.uuid4()), payload=b"", executed_version=spec.version
        )
        result.headers["X-Amz-Durable-Execution-Arn"] = existing.arn
        if not wait:
            return result
        row = await self.wait_finished(existing.arn)
        if row.status == "SUCCEEDED":
            result.payload = (row.result or "null").encode()
        else:
            error = row.error or {}
            result.function_error = "Unhandled"
            result.payload = json.dumps(
                {
                    "errorType": error.get("ErrorType", f"Execution.{row.status}"),
                    "errorMessage": error.get(
                        "ErrorMessage", f"The durable execution {row.status}"
                    ),
                }
            ).encode()
        return result

    async def wait_finished(self, arn: str) -> ExecutionRow:
        """The execution once it has finished (however long that takes)."""
        while True:
            row = self.execution(arn)
            if row.finished:
                return row
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(arn, []).append(future)
            if self.execution(arn).finished:
                continue
            await future

    def execution(self, arn: str) -> ExecutionRow:
        row = self.db.execution(arn)
        if row is None:
            raise ResourceNotFound(f"Durable execution not found: {arn}")
        return row

    # -- the SDK's calls -----------------------------------------------------------------

    def checkpoint(self, arn: str, token: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
        """CheckpointDurableExecution: apply ``changes`` in order, in one transaction;
        answer the next token and every operation the function has not seen yet."""
        now = self._clock()
        with self.db.transaction() as db:
            row = self._current(db, arn, token)
            seen = row.seen_seq
            outcome = None
            for change in changes:
                current = self.db.operation(db, arn, change["Id"])
                applied = updates_.apply(change, current, now, arn)
                self.db.put_operation(
                    db,
                    arn,
                    applied.operation,
                    wake_at=applied.wake_at,
                    callback_id=applied.callback_id,
                )
                for made in applied.events:
                    self.db.add_event(db, arn, made)
                outcome = applied.outcome or outcome
            # A wait or retry due by now is delivered in this answer, so a branch waiting
            # within the running invocation (map, parallel) goes on without a new one.
            self._fire_due(db, arn, now, want=False)
            if outcome is not None:
                self._finish(db, row, *outcome, now=now)
                answer: dict[str, Any] = {}
            else:
                answer = {
                    "CheckpointToken": updates_.make_token(row.execution_id, row.token_seq + 1)
                }
                self.db.update_execution(db, arn, token_seq=row.token_seq + 1)
            changed = self.db.operations(arn, after_seq=seen, db=db)
            latest = db.execute("SELECT op_seq FROM executions WHERE arn = ?", (arn,)).fetchone()
            self.db.update_execution(db, arn, seen_seq=int(latest[0]))
        if outcome is not None:
            self._notify(arn)
        # A new wait, retry or callback timeout may be the scheduler's next thing to do.
        self._wake.set()
        answer["NewExecutionState"] = {
            "Operations": [updates_.public_operation(op) for op in changed]
        }
        return answer

    def state(
        self, arn: str, token: str, marker: str | None, max_items: int | None
    ) -> dict[str, Any]:
        """GetDurableExecutionState: the operations, a page at a time."""
        with self.db.transaction() as db:
            self._current(db, arn, token)
            operations = [updates_.public_operation(op) for op in self.db.operations(arn, db=db)]
        start = int(marker) if marker and marker.isdigit() else 0
        size = max_items or 1000
        answer: dict[str, Any] = {"Operations": operations[start : start + size]}
        if start + size < len(operations):
            answer["NextMarker"] = str(start + size)
        return answer

    def _current(self, db: sqlite3.Connection, arn: str, token: str) -> ExecutionRow:
        row = self.db.execution(arn, db)
        if row is None:
            raise ResourceNotFound(f"Durable execution not found: {arn}")
        fresh = updates_.read_token(token) == (row.execution_id, row.token_seq)
        if not fresh or row.finished or not row.invoking:
            raise InvalidParameterValue("Invalid checkpoint token")
        return row

    # -- callbacks and stopping ----------------------------------------------------------

    def complete_callback(
        self,
        callback_id: str,
        status: str,
        *,
        result: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        """SendDurableExecutionCallbackSuccess / Failure (``status``), or a heartbeat
        (``status`` "HEARTBEAT")."""
        now = self._clock()
        found = self.db.by_callback(callback_id)
        if found is None:
            raise ResourceNotFound(f"Callback not found: {callback_id}")
        arn, op_id = found
        with self.db.transaction() as db:
            row = self.db.execution(arn, db)
            operation = self.db.operation(db, arn, op_id)
            assert row is not None
            assert operation is not None
            if operation["Status"] == "TIMED_OUT":
                raise updates_.CallbackTimedOut(f"Callback timed out: {callback_id}")
            if row.finished or operation["Status"] != "STARTED":
                raise InvalidParameterValue(
                    f"Callback {callback_id} is {operation['Status']} already"
                    if operation["Status"] != "STARTED"
                    else f"The execution of callback {callback_id} is {row.status}"
                )
            if status == "HEARTBEAT":
                wake = updates_.heartbeat(operation, now)
                self.db.put_operation(db, arn, operation, wake_at=wake)
                return
            made = updates_.callback_outcome(operation, status, now, result=result, error=error)
            self.db.put_operation(db, arn, operation, wake_at=None)
            self.db.add_event(db, arn, made)
            self.db.update_execution(db, arn, wanted=1)
        self._kick(arn)

    def stop_execution(self, arn: str, error: dict[str, Any] | None) -> float:
        """StopDurableExecution: answers the stop's time."""
        now = self._clock()
        with self.db.transaction() as db:
            row = self.db.execution(arn, db)
            if row is None:
                raise ResourceNotFound(f"Durable execution not found: {arn}")
            if row.finished:
                raise InvalidParameterValue(f"Durable execution {arn} is {row.status} already")
            self._finish(db, row, "STOPPED", None, error or {}, now=now)
        self._notify(arn)
        return now

    # -- driving -------------------------------------------------------------------------

    def _kick(self, arn: str) -> None:
        task = self._drivers.get(arn)
        if task is None or task.done():
            self._drivers[arn] = asyncio.create_task(self._drive(arn), name=f"durable {arn}")

    async def _drive(self, arn: str) -> None:
        try:
            while True:
                row = self.db.execution(arn)
                if row is None or row.finished or not row.wanted:
                    return
                with self.db.transaction() as db:
                    seq = row.token_seq + 1
                    self.db.update_execution(
                        db, arn, wanted=0, invoking=1, token_seq=seq, seen_seq=row.op_seq
                    )
                    operations = self.db.operations(arn, db=db)
                event = {
                    "DurableExecutionArn": arn,
                    "CheckpointToken": updates_.make_token(row.execution_id, seq),
                    "InitialExecutionState": {
                        "Operations": [updates_.invocation_operation(op) for op in operations]
                    },
                }
                began = self._clock()
                try:
                    spec = self._store.version_spec(row.function_name, row.version)
                    result = await self._engine.invoke(
                        replace(spec, arn=row.function_arn), json.dumps(event).encode()
                    )
                except PlatformError as error:
                    # Throttled, or the version is gone: retried like a function error.
                    document = {"errorType": error.error_type, "errorMessage": error.message}
                    result = InvokeResult(
                        str(uuid.uuid4()),
                        json.dumps(document).encode(),
                        row.version,
                        function_error="Unhandled",
                    )
                self._settle(arn, result, began)
        finally:
            if self._drivers.get(arn) is asyncio.current_task():
                del self._drivers[arn]

    def _settle(self, arn: str, result: InvokeResult, began: float) -> None:
        """What the function answered for one invocation."""
        now = self._clock()
        output: Any = None
        if result.function_error is None:
            with contextlib.suppress(ValueError):
                output = json.loads(result.payload or b"null")
        status = output.get("Status") if isinstance(output, dict) else None
        with self.db.transaction() as db:
            row = self.db.execution(arn, db)
            if row is None:
                return
            self.db.update_execution(db, arn, invoking=0)
            if row.finished:
                return
            completed: dict[str, Any] = {
                "StartTimestamp": began,
                "EndTimestamp": now,
                "RequestId": result.request_id,
            }
            if result.function_error is not None:
                completed["Error"] = {
                    "Payload": updates_.function_error(result.payload),
                    "Truncated": False,
                }
            self.db.add_event(
                db,
                arn,
                updates_.event("InvocationCompleted", {"Id": row.execution_id}, now, **completed),
            )
            if status == "SUCCEEDED":
                stored = row.result
                self._finish(
                    db, row, "SUCCEEDED", output.get("Result") or stored or "", None, now=now
                )
            elif status == "FAILED":
                self._finish(db, row, "FAILED", None, output.get("Error") or {}, now=now)
            elif status == "PENDING":
                self.db.update_execution(db, arn, failures=0)
                return
            elif row.failures >= INVOCATION_RETRIES:
                error = updates_.function_error(result.payload)
                self._finish(db, row, "FAILED", None, error, now=now)
            else:
                delay = 2.0**row.failures * self._scale
                self.db.update_execution(db, arn, failures=row.failures + 1, retry_at=now + delay)
                self._wake.set()
                return
        self._notify(arn)

    def _finish(
        self,
        db: sqlite3.Connection,
        row: ExecutionRow,
        status: str,
        result: str | None,
        error: dict[str, Any] | None,
        *,
        now: float,
    ) -> None:
        self.db.update_execution(
            db,
            row.arn,
            status=status,
            result=result,
            error=error,
            ended=now,
            wanted=0,
            retry_at=None,
        )
        operation = self.db.operation(db, row.arn, row.execution_id)
        if operation is not None and operation["Status"] == "STARTED":
            operation.update(Status=status, EndTimestamp=now)
            self.db.put_operation(db, row.arn, operation, wake_at=None)
        made = updates_.finished_event(status, row.execution_id, row.name, result, error, now)
        self.db.add_event(db, row.arn, made)

    def _notify(self, arn: str) -> None:
        for future in self._waiters.pop(arn, []):
            if not future.done():
                future.set_result(None)
        self._wake.set()

    def _fire_due(self, db: sqlite3.Connection, arn: str, now: float, *, want: bool) -> bool:
        fired = False
        rows = db.execute(
            "SELECT id FROM operations WHERE arn = ? AND wake_at IS NOT NULL AND wake_at <= ?",
            (arn, now),
        ).fetchall()
        for (op_id,) in rows:
            operation = self.db.operation(db, arn, op_id)
            assert operation is not None
            made = updates_.due_transition(operation, now)
            self.db.put_operation(db, arn, operation, wake_at=None)
            if made is not None:
                self.db.add_event(db, arn, made)
            fired = True
        if fired and want:
            self.db.update_execution(db, arn, wanted=1)
        return fired

    async def _schedule(self) -> None:
        """The one scheduler: fires what is due, then sleeps until the next thing is."""
        while True:
            self._wake.clear()
            now = self._clock()
            try:
                self._tick(now)
            except Exception:  # the scheduler must outlive one bad row
                logger.exception("durable executions: a scheduler pass failed")
            nearest = self.db.next_wake()
            delay = _MAX_WAIT_S if nearest is None else min(max(nearest - now, 0.0), _MAX_WAIT_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _tick(self, now: float) -> None:
        for arn in {arn for arn, _ in self.db.due_operations(now)}:
            with self.db.transaction() as db:
                fired = self._fire_due(db, arn, now, want=True)
            if fired:
                self._kick(arn)
        for row in self.db.running():
            if row.started + row.timeout_s <= now:
                error = {
                    "ErrorType": "Execution.TimedOut",
                    "ErrorMessage": f"The execution exceeded its {row.timeout_s} s timeout",
                }
                with self.db.transaction() as db:
                    self._finish(db, row, "TIMED_OUT", None, error, now=now)
                self._notify(row.arn)
            elif row.retry_at is not None and row.retry_at <= now:
                with self.db.transaction() as db:
                    self.db.update_execution(db, row.arn, retry_at=None, wanted=1)
                self._kick(row.arn)
        pruned = self.db.prune(now)
        if pruned:
            logger.info("durable executions: %d past their retention deleted", pruned)
