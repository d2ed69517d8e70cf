"""Instances: the real processes that run functions, one invocation at a time.

An ``Instance`` is one execution environment: a process (group) started with its own
Runtime API address, its stdout/stderr pipes, a pidfd that tells the event loop when it
exits, and the invocation it is working on. ``runtime_api`` hands the invocation to the
process and takes its result; the engine decides which instance runs what.

Why ``Popen`` + ``pidfd`` instead of ``asyncio.create_subprocess_exec``: Python 3.11's
default child watcher starts a thread per child, and asyncio's pipe transports add
layers the hot path does not need. ``Popen`` forks with ``vfork`` (no ``preexec_fn``), and
limits are applied with ``prlimit`` right after the spawn, before the interpreter has
done anything that could exceed them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from strum.platform import sandbox
from strum.platform.engine.logs import MAX_LINE_BYTES
from strum.platform.sandbox import Cgroup
from strum.platform.spec import FunctionSpec

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
# AWS gives an execution environment this long to shut down after SIGTERM.
SHUTDOWN_GRACE_S = 2.0
# Go's names for the signals (AWS's error messages come from Go's os/exec).
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception",
    signal.SIGTRAP: "trace/breakpoint trap",
}


def error_document(error_type: str, message: str) -> bytes:
    """The body of an error the platform (not the function) reports for an invocation."""
    # AWS's platform-side errors put errorType first (unlike the runtime's documents).
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


@dataclass
class Outcome:
    """How an invocation ended. ``error_type`` None means success; ``fatal`` means the
    instance cannot be reused (timeout, crash, out of memory, init failure)."""

    body: bytes
    content_type: str = "application/json"
    error_type: str | None = None
    streamed: bool = False
    fatal: bool = False
    status: str | None = None  # REPORT's Status: "timeout" or "error"
    # Set when the Invoke API must answer with an error of its own instead of the
    # function's result (SnapStart's restore failures): (HTTP status, type, message).
    service_error: tuple[int, str, str] | None = None


@dataclass(eq=False)
class Invocation:
    """One request in flight on one instance."""

    request_id: str
    payload: bytes
    timeout_s: float
    trace_id: str
    client_context: str | None
    done: asyncio.Future[Outcome]
    # Set for invoke_stream: chunks as they arrive, None at the end.
    chunks: asyncio.Queue[bytes | None] | None = None
    # Resolved with the response headers as soon as the function starts answering.
    answering: asyncio.Future[dict[str, str]] | None = None
    log: list[str] | None = None  # the invocation's log lines, when a tail was asked for
    delivered_at: float = 0.0  # perf_counter when the event went to the function
    finished_at: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    instance: Instance | None = field(default=None, repr=False)
    outcome: Outcome | None = None  # the final outcome, after the engine's bookkeeping
    settled: bool = False

    @property
    def finished(self) -> bool:
        return self.done.done()


@dataclass
class ForkedProcess:
    """An instance's process forked by a template (not our child): its host pid and, once
    it has exited, its exit code (``Popen``'s two attributes an ``Instance`` uses)."""

    pid: int
    returncode: int | None = None


class InstanceEvents(Protocol):
    """What an instance tells its owner (the engine)."""

    def delivered(self, instance: Instance, invocation: Invocation) -> None: ...

    def output(self, instance: Instance, stream: str, line: str) -> None: ...

    def timed_out(self, instance: Instance, invocation: Invocation) -> Outcome: ...

    def exited(self, instance: Instance, status: int, max_rss_kb: int) -> None: ...


class Instance:
    """One running execution environment of one function version."""

    def __init__(
        self,
        spec: FunctionSpec,
        ident: str,
        port: int,
        popen: subprocess.Popen[bytes] | ForkedProcess,
        pipes: tuple[int, int],
        events: InstanceEvents,
        close_listener: Callable[[], object],
        tmpdir: str,
        cgroup: Cgroup | None = None,
        sandboxed: bool = False,
        exit_status: asyncio.Future[int] | None = None,
    ) -> None:
        self.spec = spec
        self.ident = ident
        self.port = port
        self.popen = popen
        self.pid = popen.pid
        self.events = events
        self.tmpdir = tmpdir
        self.cgroup = cgroup
        # In a sandbox the process we started is bubblewrap; the function runs below it.
        self.sandboxed = sandboxed
        self._function_pid: int | None = None
        self.spawned_at = time.perf_counter()
        # When the credentials it may hold were minted: a fork holds what its template's
        # init kept (a boto3 client made at import) besides its own fresh ones.
        self.credentials_since = self.spawned_at
        self.init_ms: float | None = None  # set when the runtime first asks for an event
        self.init_reported = False  # the REPORT carrying Init Duration was written
        self.invocation: Invocation | None = None
        self.invocations = 0
        self.retired = False
        self.init_failed = False  # the runtime posted /init/error
        self.init_error: bytes = b""  # the document it posted there
        # Started ahead of any request to stay warm (provisioned concurrency): no idle timer.
        self.provisioned = False
        # Peak resident memory seen in /proc (VmHWM). Not wait4's ru_maxrss: a forked child
        # inherits its parent's high-water mark until exec, so that counts the platform's
        # own memory (and, in a large test process, looked like an out-of-memory kill).
        self.peak_kb = 0
        self.final_rss_kb = 0  # the peak, once the process has exited
        self.kill_reason: str | None = None
        self.alive = True
        self.last_used = time.monotonic()
        self.idle_timer: asyncio.TimerHandle | None = None
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Resolved when the runtime first asks for an event: its init is over.
        self.initialised: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._close_listener = close_listener
        self._poll: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._partial: dict[int, bytes] = {}
        self._streams = {pipes[0]: "stdout", pipes[1]: "stderr"}
        for fd in pipes:
            os.set_blocking(fd, False)
            self._loop.add_reader(fd, self._read, fd)
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._pidfd, self._reap)
        self._status_fd: int | None = None
        # An instance forked from a template is not our child: its template reaps it and
        # tells its exit status through this future (see ``templates``).
        self._exit_status = exit_status
        self.restored_from_template = exit_status is not None

    # -- the Runtime API side --------------------------------------------------------------

    async def next_invocation(self) -> Invocation | None:
        """The long poll: the next event for this instance, or None if it is going away."""
        if self.init_ms is None:
            self.init_ms = (time.perf_counter() - self.spawned_at) * 1000
            if not self.initialised.done():
                self.initialised.set_result(None)
        invocation = self.invocation
        if invocation is None or invocation.delivered_at:
            self._poll = poll = self._loop.create_future()
            try:
                await poll
            finally:
                self._poll = None
            invocation = self.invocation
            if invocation is None or invocation.delivered_at or not self.alive:
                return None
        invocation.delivered_at = time.perf_counter()
        invocation.timer = self._loop.call_later(invocation.timeout_s, self._time_out, invocation)
        self.events.delivered(self, invocation)
        return invocation

    def current(self, request_id: str) -> Invocation | None:
        """The delivered, unfinished invocation with this id, if any."""
        invocation = self.invocation
        if (
            invocation is None
            or invocation.request_id != request_id
            or not invocation.delivered_at
            or invocation.finished
        ):
            return None
        return invocation

    def assign(self, invocation: Invocation) -> None:
        """Give the instance its next invocation (it must be free)."""
        self.invocation = invocation
        self.invocations += 1
        if self._poll is not None and not self._poll.done():
            self._poll.set_result(None)

    def finish(self, invocation: Invocation, outcome: Outcome) -> None:
        """End an invocation with ``outcome`` (first call wins)."""
        if invocation.finished:
            return
        if invocation.timer is not None:
            invocation.timer.cancel()
        # The runtime flushes its output before posting a result: read what is in the
        # pipes now, so every line lands in this invocation's log.
        self.drain()
        invocation.finished_at = time.perf_counter()
        invocation.done.set_result(outcome)

    def _time_out(self, invocation: Invocation) -> None:
        if invocation.finished:
            return
        self.kill("timeout")
        self.finish(invocation, self.events.timed_out(self, invocation))

    # -- the process -----------------------------------------------------------------------

    def max_memory_kb(self) -> int:
        """Peak resident memory (VmHWM) of the process and its children, in KiB."""
        try:
            pid = self.function_pid()
            if self._status_fd is None:
                self._status_fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
            total = _hwm_kb(os.pread(self._status_fd, 4096, 0))
            if self.spec.runtime.startswith("provided"):
                # A bootstrap script typically runs the real runtime as its child.
                with open(f"/proc/{pid}/task/{pid}/children", "rb") as children:
                    for child in children.read().split():
                        with open(b"/proc/%s/status" % child, "rb") as status:
                            total += _hwm_kb(status.read())
            self.peak_kb = max(self.peak_kb, total)
            return total
        except OSError:
            return 0

    def function_pid(self) -> int:
        """The function's own process: ours, or in a sandbox the one below bubblewrap's
        namespace init (bwrap -> its PID 1 -> the runtime)."""
        if not self.sandboxed:
            return self.pid
        if self._function_pid is None:
            below = sandbox.descendants(self.pid)
            if len(below) < 2:
                raise ProcessLookupError(self.pid)
            self._function_pid = below[1]
        return self._function_pid

    def signal(self, signum: int) -> None:
        """Signal the instance's whole process group (a bootstrap and what it started).

        In a sandbox, anything but SIGKILL goes to the processes inside it only: bubblewrap
        itself would die of a SIGTERM and take the function down before it could shut down
        gracefully. (The namespace's init ignores it; the kernel drops unhandled signals to
        a PID namespace's init.)
        """
        if self.sandboxed and signum != signal.SIGKILL:
            for pid in sandbox.descendants(self.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill(self, reason: str) -> None:
        """Stop the instance at once (SIGKILL); ``reason`` says why, for the error reports."""
        if self.kill_reason is None:
            self.kill_reason = reason
        self.alive = False
        self.signal(signal.SIGKILL)

    def stop(self) -> None:
        """Ask the instance to shut down (SIGTERM), killing it after the grace period."""
        if not self.alive:
            return
        self.alive = False
        self.kill_reason = self.kill_reason or "stopped"
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.signal(signal.SIGTERM)
        if self._poll is not None and not self._poll.done():
            self._poll.set_result(None)
        self._loop.call_later(SHUTDOWN_GRACE_S, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if not self.exited.done():
            self.signal(signal.SIGKILL)

    def _reap(self) -> None:
        waiting = self._exit_status
        if waiting is not None:
            self._loop.remove_reader(self._pidfd)
            if waiting.done():
                self._reaped(waiting.result())
            else:
                waiting.add_done_callback(lambda done: self._reaped(done.result()))
                # A template that does not reap (stopped by its own init's code) must not
                # keep the instance's end unrecorded: its status is then unknown.
                self._loop.call_later(_REAP_GRACE_S, _settle_status, waiting)
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return
        exit_code = os.waitstatus_to_exitcode(status)
        if self.sandboxed and 128 < exit_code < 160:
            exit_code = 128 - exit_code  # bubblewrap reports a signal death as 128 + signal
        self._reaped(exit_code)

    def _reaped(self, exit_code: int) -> None:
        if self.exited.done():
            return
        if self.cgroup is not None:
            if self.cgroup.oom_killed() and self.kill_reason is None:
                self.kill_reason = "oom"
            self.cgroup.remove()
        self.popen.returncode = exit_code
        if self._exit_status is None:
            self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        if self._status_fd is not None:
            os.close(self._status_fd)
            self._status_fd = None
        # Children the bootstrap left behind die with it, as in a Lambda sandbox.
        self.signal(signal.SIGKILL)
        self.drain()
        for fd in list(self._streams):
            self._close_pipe(fd)
        self.alive = False
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self._poll is not None and not self._poll.done():
            self._poll.set_result(None)
        self._close_listener()
        self.events.exited(self, exit_code, self.peak_kb)
        self.exited.set_result(exit_code)

    # -- output ----------------------------------------------------------------------------

    def drain(self) -> None:
        """Read everything the pipes hold now (non-blocking)."""
        for fd in list(self._streams):
            self._read(fd, until_empty=True)

    def _read(self, fd: int, until_empty: bool = False) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close_pipe(fd)
                return
            self._lines(fd, data)
            if not until_empty:
                return

    def _lines(self, fd: int, data: bytes) -> None:
        stream = self._streams[fd]
        partial = self._partial.pop(fd, b"")
        if partial:
            data = partial + data
        lines = data.split(b"\n")
        rest = lines.pop()
        for line in lines:
            self._emit(stream, line)
        if len(rest) >= MAX_LINE_BYTES:
            self._emit(stream, rest)
        elif rest:
            self._partial[fd] = rest

    def _emit(self, stream: str, line: bytes) -> None:
        for start in range(0, max(len(line), 1), MAX_LINE_BYTES):
            text = line[start : start + MAX_LINE_BYTES].decode("utf-8", errors="replace")
            self.events.output(self, stream, text.rstrip("\r"))

    def flush_partial(self) -> None:
        """Emit output that has no newline yet (the invocation is over)."""
        for fd, rest in list(self._partial.items()):
            del self._partial[fd]
            self._emit(self._streams[fd], rest)

    def _close_pipe(self, fd: int) -> None:
        stream = self._streams.pop(fd, None)
        if stream is None:
            return
        rest = self._partial.pop(fd, b"")
        if rest:
            self._emit(stream, rest)
        self._loop.remove_reader(fd)
        os.close(fd)


_REAP_GRACE_S = 1.0


def _settle_status(waiting: asyncio.Future[int]) -> None:
    if not waiting.done():
        waiting.set_result(-signal.SIGKILL)


def _hwm_kb(status: bytes) -> int:
    start = status.find(b"VmHWM:")
    if start < 0:
        return 0
    end = status.find(b"kB", start)
    return int(status[start + 6 : end])


def exit_description(status: int) -> str:
    """Go's wording of a process exit, as in AWS's ``Runtime exited with error: ...``."""
    if status < 0:
        name = _SIGNAL_NAMES.get(signal.Signals(-status), f"signal {-status}")
        return f"signal: {name}"
    return f"exit status {status}"
