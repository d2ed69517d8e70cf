"""The data plane: runs invocations on warm or freshly started instances, within limits.

``Engine.invoke`` takes a ``FunctionSpec`` (one exact version, resolved by the control
plane) and a payload: it checks concurrency (reserved per function, and the platform-wide
limit: AWS's 429 reasons), takes an idle instance of that spec from its warm pool or
starts one (a cold start), hands it the event through the Runtime API, waits for the
result, writes START/END/REPORT, and puts the instance back, warm, for the next request.
Instances idle for ``settings.idle_timeout_s`` are stopped (scale to zero).

Limits, as AWS applies them: the timeout kills the instance (``Sandbox.Timedout``); memory
is capped with RLIMIT_DATA and an allocation failure ends the instance as
``Runtime.OutOfMemory``; a process that dies mid-invocation is ``Runtime.ExitError``, and
only its own request fails - the next one gets a new instance. How an instance is started
(its command, environment and sandbox) is ``launch``'s business.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from strum.platform.engine.health import StartRecord, instance_counts, instance_details
from strum.platform.engine.instances import (
    Instance,
    Invocation,
    Outcome,
    error_document,
    exit_description,
)
from strum.platform.engine.launch import InvalidEntrypoint, Launcher
from strum.platform.engine.logs import LogStore, end_line, report_line, start_line, tail_of
from strum.platform.engine.provisioned import Provisioning
from strum.platform.engine.runtime_api import RESPONSE_MODE, RuntimeAPI, SelfInvoke
from strum.platform.engine.streams import BodyStream, StreamFailed
from strum.platform.engine.templates import (
    SnapStartError,
    Templates,
    restore_timed_out,
)
from strum.platform.errors import TooManyRequests
from strum.platform.home import Home
from strum.platform.settings import Settings
from strum.platform.spec import FunctionSpec, InvokeResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.platform.state.metrics import InvocationMetrics

logger = logging.getLogger(__name__)

_RATE_EXCEEDED = "Rate Exceeded."


# Instances get session credentials valid for 12 hours (``identity.sessions``); one is not
# reused after 11, so no invocation runs with credentials about to expire.
MAX_INSTANCE_AGE_S = 11 * 3600


class Engine:
    """Instances, warm pools, limits and logs for every function of one platform."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        api_endpoint: Callable[[], str] | None = None,
        credentials: Callable[[FunctionSpec], dict[str, str]] | None = None,
    ) -> None:
        self.home = home.ensure()
        self.settings = settings
        self.logs = LogStore(home.logs_db)
        # ``api_endpoint``: the platform's Invoke API as functions reach it (asked at launch).
        self.launcher = Launcher(home, settings, api_endpoint, credentials)
        self.runtime_api = RuntimeAPI()
        self.provisioning = Provisioning(self)
        self.templates = Templates(
            self.launcher,
            self.runtime_api,
            settings,
            lambda spec, stream, line: self.logs.append(spec.name, spec.version, "", stream, line),
        )
        self.starts = StartRecord()
        self._pools: dict[tuple[str, str, str, str], list[Instance]] = {}
        self._instances: set[Instance] = set()
        self._busy_total = 0
        self._busy: dict[str, int] = {}
        self._ids = 0
        self._cold_starts = 0
        self._invocations = 0
        self._started = False
        # Per-minute aggregates of what finished and what was throttled (the dashboard's).
        self.metrics: InvocationMetrics | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, self_invoke: SelfInvoke | None = None) -> None:
        """Bind the Runtime API (its first listener is made ready now).

        ``self_invoke`` answers an instance's asynchronous invocation of its own function;
        it is given here, not at construction, because it runs through the invoker, which
        is built on this engine.
        """
        await self.launcher.start()
        await self.runtime_api.start(self_invoke)
        self._started = True

    async def stop(self) -> None:
        """Stop every instance (SIGTERM, then SIGKILL after the grace period)."""
        await self.provisioning.stop()
        instances = list(self._instances)
        for instance in instances:
            instance.stop()
        if instances:
            await asyncio.wait([i.exited for i in instances], timeout=10)
        await self.templates.stop()
        await self.runtime_api.stop()
        await self.launcher.stop()
        self.logs.close()
        self._started = False

    def retire(self, name: str, version: str | None = None) -> None:
        """Stop instances of ``name`` (one version, or all): idle ones now, busy ones after
        their invocation. Called whenever code or configuration changes."""
        self.provisioning.retire(name, version)
        self.templates.retire(name, version)
        for instance in list(self._instances):
            spec = instance.spec
            if spec.name == name and (version is None or spec.version == version):
                instance.retired = True
                if instance.invocation is None or instance.invocation.finished:
                    self._remove_idle(instance)
                    instance.stop()

    # -- invoking --------------------------------------------------------------------------

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        tail: bool = False,
    ) -> InvokeResult:
        """Run one synchronous invocation; raises ``TooManyRequests`` when over a limit."""
        invocation = self._invocation(spec, payload, request_id, client_context, tail)
        await self._begin(spec, invocation)
        # Shielded: a caller that goes away must not cancel the invocation's bookkeeping.
        await asyncio.shield(invocation.done)
        outcome = self._settle(spec, invocation, invocation.done)
        assert outcome is not None
        if outcome.service_error is not None:
            raise SnapStartError(*outcome.service_error)
        return InvokeResult(
            request_id=invocation.request_id,
            payload=outcome.body,
            executed_version=spec.version,
            function_error="Unhandled" if outcome.error_type is not None else None,
            log_tail=tail_of(invocation.log) if invocation.log is not None else None,
            content_type=outcome.content_type,
            streamed=outcome.streamed,
        )

    async def invoke_stream(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        tail: bool = False,
    ) -> tuple[dict[str, str], BodyStream]:
        """Start an invocation and return as soon as the function answers: the response
        headers and an iterator over the body chunks as the function streams them.

        A buffered response comes back as one chunk; a function error as the error
        document with ``X-Amz-Function-Error``; a failure mid-stream makes the iterator
        raise ``StreamFailed`` after the chunks sent before it. With ``tail`` the stream's
        ``log_tail`` holds the last 4 KB of the log once it has ended.
        """
        invocation = self._invocation(spec, payload, request_id, client_context, tail)
        invocation.chunks = asyncio.Queue()
        invocation.answering = asyncio.get_running_loop().create_future()
        await self._begin(spec, invocation)
        headers = dict(await asyncio.shield(invocation.answering))
        if invocation.finished:
            self._settle(spec, invocation, invocation.done)
        headers["X-Amz-Executed-Version"] = spec.version
        headers["x-amzn-RequestId"] = invocation.request_id
        outcome = invocation.outcome
        if outcome is not None and outcome.service_error is not None:
            raise SnapStartError(*outcome.service_error)
        if outcome is not None and outcome.error_type is not None and not outcome.streamed:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return headers, BodyStream(invocation)

    async def _begin(self, spec: FunctionSpec, invocation: Invocation) -> None:
        """Admit the invocation and hand it to an instance; bookkeeping runs when it ends."""
        self._admit(spec)
        # Registered before anyone awaits `done`, so it runs before they resume.
        invocation.done.add_done_callback(lambda done: self._settle(spec, invocation, done))
        try:
            instance = await self._acquire(spec, invocation)
        except BaseException:
            if not invocation.done.done():
                invocation.done.cancel()
            raise
        if instance is not None:
            invocation.instance = instance
            instance.assign(invocation)

    def _settle(self, spec: FunctionSpec, invocation: Invocation, done: Any) -> Outcome | None:
        """Bookkeeping once an invocation is over; runs once (done callback or caller)."""
        if invocation.settled:
            return invocation.outcome
        invocation.settled = True
        self._release(spec)
        if done.cancelled():
            return None
        outcome: Outcome = done.result()
        instance = invocation.instance
        if instance is not None:
            outcome = self._complete(instance, invocation, outcome)
        started = invocation.answering is not None and invocation.answering.done()
        if started and outcome.error_type is not None and not outcome.streamed:
            # A timeout or a crash after the stream began: its body is out already, so the
            # failure ends the stream as a function error mid-stream does.
            outcome = replace(outcome, streamed=True)
        invocation.outcome = outcome
        if invocation.answering is not None and not invocation.answering.done():
            invocation.answering.set_result({"Content-Type": outcome.content_type})
        if invocation.chunks is not None:
            if not outcome.streamed:
                invocation.chunks.put_nowait(outcome.body)
            invocation.chunks.put_nowait(None)
        return outcome

    def _invocation(
        self,
        spec: FunctionSpec,
        payload: bytes,
        request_id: str | None,
        client_context: str | None,
        tail: bool,
    ) -> Invocation:
        loop = asyncio.get_running_loop()
        return Invocation(
            request_id=request_id or str(uuid.uuid4()),
            payload=payload,
            timeout_s=float(spec.timeout_s),
            trace_id=f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0",
            client_context=_decode_client_context(client_context),
            done=loop.create_future(),
            log=[] if tail else None,
        )

    def _admit(self, spec: FunctionSpec) -> None:
        """Count the invocation in, or raise TooManyRequests (no await: checks are atomic)."""
        busy = self._busy.get(spec.name, 0)
        reserved = spec.reserved_concurrency
        over = self._busy_total >= self.settings.max_concurrency
        if self.metrics is not None and (over or (reserved is not None and busy >= reserved)):
            self.metrics.throttled(spec.name)
        if reserved is not None and busy >= reserved:
            raise TooManyRequests(
                _RATE_EXCEEDED, "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
        if self._busy_total >= self.settings.max_concurrency:
            raise TooManyRequests(_RATE_EXCEEDED, "ConcurrentInvocationLimitExceeded")
        self._busy[spec.name] = busy + 1
        self._busy_total += 1
        self._invocations += 1

    def _release(self, spec: FunctionSpec) -> None:
        self._busy_total -= 1
        left = self._busy[spec.name] - 1
        if left:
            self._busy[spec.name] = left
        else:
            del self._busy[spec.name]

    async def _acquire(self, spec: FunctionSpec, invocation: Invocation) -> Instance | None:
        """A warm idle instance of ``spec``, else a new one; None if it cannot start (the
        invocation is then already finished with the reason)."""
        pool = self._pools.get(spec.instance_key)
        while pool:
            # Provisioned instances first: they are what was paid for to be warm.
            index = next((i for i, warm in enumerate(pool) if warm.provisioned), -1)
            instance = pool.pop(index)
            if instance.idle_timer is not None:
                instance.idle_timer.cancel()
                instance.idle_timer = None
            if time.perf_counter() - instance.credentials_since > MAX_INSTANCE_AGE_S:
                # (A provisioned one is replaced by ``provisioning`` when it exits.)
                # Its session credentials would expire while it runs: start a fresh one.
                instance.retired = True
                instance.stop()
                continue
            if instance.alive and not instance.retired:
                return instance
        return await self._start_instance(spec, invocation)

    async def _start_instance(self, spec: FunctionSpec, invocation: Invocation) -> Instance | None:
        try:
            instance = await self.spawn(spec)
        except InvalidEntrypoint as exc:
            message = str(exc)
            if isinstance(exc.__cause__, OSError):
                message = f"RequestId: {invocation.request_id} Error: {message}"
                self.starts.failed(str(exc))
            document = error_document("Runtime.InvalidEntrypoint", message)
            invocation.done.set_result(
                Outcome(document, error_type="Runtime.InvalidEntrypoint", fatal=True)
            )
            return None
        self._cold_starts += 1
        return instance

    async def spawn(self, spec: FunctionSpec, *, provisioned: bool = False) -> Instance:
        """Start a new instance of ``spec`` (its init runs in the background); raises
        ``InvalidEntrypoint`` when it cannot be started at all. A ``provisioned`` one
        is told so (``AWS_LAMBDA_INITIALIZATION_TYPE``)."""
        argv = self.launcher.argv(spec)
        self._ids += 1
        ident = f"{os.getpid():x}{self._ids:08x}{os.urandom(8).hex()}"
        if self.templates.eligible(spec):
            forked = await self.templates.instance(spec, ident, self, provisioned=provisioned)
            if forked is not None:
                self._instances.add(forked)
                forked.initialised.add_done_callback(lambda _: self.starts.started())
                asyncio.get_running_loop().call_later(
                    self.templates.restore_timeout_s, self._restore_deadline, forked
                )
                return forked
        isolated = self.launcher.isolates(spec)
        listener = await (
            self.runtime_api.listen_isolated() if isolated else self.runtime_api.listen()
        )
        try:
            launched = await self.launcher.launch(
                spec, argv, ident, listener, isolated, provisioned=provisioned
            )
        except OSError as exc:
            listener.close()
            raise InvalidEntrypoint(f"cannot start {argv[0]}: {exc}") from exc
        listener.release_namespace()
        instance = Instance(
            spec,
            ident,
            listener.port,
            launched.popen,
            launched.pipes,
            self,
            listener.close,
            launched.tmpdir,
            cgroup=launched.cgroup,
            sandboxed=launched.sandboxed,
        )
        listener.attach(instance)
        self._instances.add(instance)
        instance.initialised.add_done_callback(lambda _: self.starts.started())
        return instance

    def _restore_deadline(self, instance: Instance) -> None:
        """A forked instance not ready 10 s after its fork: SnapStartTimeoutException."""
        if instance.initialised.done() or not instance.alive:
            return
        invocation = instance.invocation
        if invocation is not None:
            instance.finish(
                invocation,
                Outcome(b"", fatal=True, status="timeout", service_error=restore_timed_out()),
            )
        instance.kill("restore timeout")
        self.templates.not_restored(instance)

    # -- after an invocation ---------------------------------------------------------------

    def _complete(self, instance: Instance, invocation: Invocation, outcome: Outcome) -> Outcome:
        """Write END/REPORT, translate out-of-memory, and return the instance to its pool."""
        if outcome.error_type == "MemoryError" and not outcome.streamed:
            # RLIMIT_DATA made an allocation fail inside the function: on Lambda the
            # sandbox is killed at its memory size, so end the instance the same way.
            instance.kill("oom")
            outcome = self._out_of_memory(instance, invocation)
        instance.flush_partial()
        request_id = invocation.request_id
        spec = instance.spec
        if invocation.delivered_at:
            duration = (invocation.finished_at - invocation.delivered_at) * 1000
        else:
            duration = (invocation.finished_at - instance.spawned_at) * 1000
        init_ms = restore_ms = None
        if not instance.init_reported and instance.init_ms is not None:
            instance.init_reported = True
            if instance.restored_from_template:
                restore_ms = instance.init_ms  # fork to ready, hooks included
            else:
                init_ms = instance.init_ms
        billed = math.ceil(duration)
        if init_ms is not None and spec.runtime.startswith("provided"):
            billed += math.ceil(init_ms)  # AWS bills a custom runtime's init
        max_kb = instance.max_memory_kb() if instance.alive else instance.final_rss_kb
        if not max_kb:
            max_kb = instance.final_rss_kb
        status = outcome.status
        self._log(instance, invocation, "platform", end_line(request_id))
        self._log(
            instance,
            invocation,
            "platform",
            report_line(
                request_id,
                duration_ms=duration,
                billed_ms=billed,
                memory_mb=spec.memory_mb,
                max_memory_mb=max(1, math.ceil(max_kb / 1024)),
                init_ms=init_ms,
                restore_ms=restore_ms,
                status=status,
                error_type=outcome.error_type if status == "error" else None,
            ),
        )
        if self.metrics is not None:
            failed = status is not None or outcome.error_type is not None
            self.metrics.completed(spec.name, duration, init_ms, failed)
        instance.invocation = None
        if outcome.fatal or instance.init_failed:
            instance.kill(instance.kill_reason or "failed")
        elif instance.retired or not instance.alive:
            instance.stop()
        else:
            self.pool(instance)
        return outcome

    def pool(self, instance: Instance) -> None:
        """Put a free instance in its warm pool (where it may be already); an on-demand one
        is stopped after ``idle_timeout_s`` there, a provisioned one is kept."""
        pool = self._pools.setdefault(instance.spec.instance_key, [])
        if instance not in pool:
            pool.append(instance)
        if instance.idle_timer is not None:
            instance.idle_timer.cancel()
            instance.idle_timer = None
        if not instance.provisioned:
            instance.idle_timer = asyncio.get_running_loop().call_later(
                self.settings.idle_timeout_s, self._reap_idle, instance
            )

    def _reap_idle(self, instance: Instance) -> None:
        instance.idle_timer = None
        if instance.invocation is None and not instance.provisioned:
            self._remove_idle(instance)
            instance.stop()

    def _remove_idle(self, instance: Instance) -> None:
        pool = self._pools.get(instance.spec.instance_key)
        if pool and instance in pool:
            pool.remove(instance)
            if not pool:
                del self._pools[instance.spec.instance_key]

    def _out_of_memory(self, instance: Instance, invocation: Invocation) -> Outcome:
        message = (
            f"RequestId: {invocation.request_id} Error: Runtime exited with error: signal: killed"
        )
        self._log(instance, invocation, "platform", message)
        return Outcome(
            error_document("Runtime.OutOfMemory", message),
            error_type="Runtime.OutOfMemory",
            fatal=True,
            status="error",
        )

    # -- InstanceEvents ----------------------------------------------------------------------

    def delivered(self, instance: Instance, invocation: Invocation) -> None:
        self._log(
            instance,
            invocation,
            "platform",
            start_line(invocation.request_id, instance.spec.version),
        )

    def output(self, instance: Instance, stream: str, line: str) -> None:
        invocation = instance.invocation
        if invocation is not None and invocation.delivered_at and not invocation.finished:
            self._log(instance, invocation, stream, line)
            return
        spec = instance.spec
        self.logs.append(spec.name, spec.version, "", stream, line)
        if invocation is not None and not invocation.finished and invocation.log is not None:
            invocation.log.append(line)  # init output of the cold start this request waits for

    def timed_out(self, instance: Instance, invocation: Invocation) -> Outcome:
        seconds = f"{invocation.timeout_s:.2f}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self._log(
            instance,
            invocation,
            "platform",
            f"{stamp}Z {invocation.request_id} Task timed out after {seconds} seconds",
        )
        message = (
            f"RequestId: {invocation.request_id} Error: Task timed out after {seconds} seconds"
        )
        return Outcome(
            error_document("Sandbox.Timedout", message),
            error_type="Sandbox.Timedout",
            fatal=True,
            status="timeout",
        )

    def exited(self, instance: Instance, status: int, max_rss_kb: int) -> None:
        instance.final_rss_kb = max_rss_kb
        self._instances.discard(instance)
        self._remove_idle(instance)
        shutil.rmtree(instance.tmpdir, ignore_errors=True)
        if instance.provisioned:
            self.provisioning.exited(instance)
        self.starts.ended(instance, status)
        invocation = instance.invocation
        if invocation is None or invocation.finished:
            return
        limit_kb = instance.spec.memory_mb * 1024
        if instance.kill_reason == "oom" or (status < 0 and max_rss_kb >= 0.9 * limit_kb):
            outcome = self._out_of_memory(instance, invocation)
        else:
            message = (
                f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                f"{exit_description(status)}"
            )
            self._log(instance, invocation, "platform", message)
            outcome = Outcome(
                error_document("Runtime.ExitError", message),
                error_type="Runtime.ExitError",
                fatal=True,
                status="error",
            )
        instance.finish(invocation, outcome)

    def _log(self, instance: Instance, invocation: Invocation, stream: str, line: str) -> None:
        spec = instance.spec
        self.logs.append(spec.name, spec.version, invocation.request_id, stream, line)
        if invocation.log is not None:
            invocation.log.append(line)

    # -- status ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Whether instances can still start: ``{"healthy", "reasons"}`` (``health``)."""
        return self.starts.report(self.launcher.problems())

    def instance_details(self) -> list[dict[str, Any]]:
        """Each live instance (``health.instance_details``), for the dashboard."""
        return instance_details(self._instances)

    def status(self) -> dict[str, Any]:
        """Instances per function and version (busy / idle / starting), counters, and
        which isolation and limit mechanisms are in effect."""
        return {
            "instances": {
                **instance_counts(self._instances),
                "cold_starts": self._cold_starts,
                "invocations": self._invocations,
                "concurrent_invocations": self._busy_total,
                "max_concurrency": self.settings.max_concurrency,
                "idle_timeout_s": self.settings.idle_timeout_s,
                "isolation": self.launcher.sandbox.enforcement(),
                "templates": self.templates.status(),
            }
        }


def _decode_client_context(value: str | None) -> str | None:
    """X-Amz-Client-Context is base64 JSON; the Runtime API header carries the JSON."""
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except ValueError:
        return value


__all__ = ["RESPONSE_MODE", "BodyStream", "Engine", "StreamFailed"]
