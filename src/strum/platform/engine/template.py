"""One template process (see ``templates``): started in the function's sandbox, it
reports its init, forks spares on request, and tells when what it forked has exited.
The platform's side of ``strum.runtime._zygote``'s control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strum.platform import sandbox
from strum.platform.engine.runtime_api import Listener, RuntimeAPI
from strum.platform.sandbox import Cgroup
from strum.platform.spec import FunctionSpec

logger = logging.getLogger(__name__)

_SPARES = 1  # forks kept ready per template, beyond cold starts already waiting


class ForkRefused(OSError):
    """A fork of the template could not make its namespaces: this machine cannot fork."""


@dataclass
class Spare:
    """A fork made ready ahead of a cold start: namespaces, cgroup, listener."""

    ident: str
    host_pid: int
    cgroup: Cgroup | None
    listener: Listener | None
    exit_status: asyncio.Future[int]


class Template:
    """One template process and the spare forks it keeps ready."""

    def __init__(self, spec: FunctionSpec, isolated: bool, output: Callable[[str, str], None]):
        loop = asyncio.get_running_loop()
        self.spec = spec
        self.isolated = isolated
        self.state = "starting"  # -> ready | failed | retired | dead
        self.ready: asyncio.Future[bool] = loop.create_future()
        self.error: dict[str, Any] | None = None
        self.init_ms: float | None = None
        self.instances = 0  # alive, started from this template
        self.live: set[Any] = set()  # those instances (for their memory in ``status``)
        self.forks = 0
        self.exited: asyncio.Future[None] = loop.create_future()
        self._output = output
        self._loop = loop
        self._ids = itertools.count()
        self._spares: list[Spare] = []
        self._preparing = 0
        self.preparing: set[asyncio.Future[None]] = set()  # spares being prepared
        self._waiting = 0
        self._changed: asyncio.Future[None] = loop.create_future()
        self._forking: dict[str, asyncio.Future[int]] = {}
        self._exits: dict[str, asyncio.Future[int]] = {}
        self.started_at = self._started_at = time.perf_counter()
        self._control: socket.socket | None = None
        self._popen: Any = None
        self._pidfd = -1
        self._cgroup: Cgroup | None = None
        self._host_pid = 0
        self._partial: dict[int, bytes] = {}
        self._pipes: dict[int, str] = {}
        self.idle_timer: asyncio.TimerHandle | None = None

    # -- the template process ----------------------------------------------------------------

    def attach(self, control: socket.socket, launched: Any) -> None:
        self._control = control
        control.setblocking(False)
        self._loop.add_reader(control.fileno(), self._on_message)
        self._popen = launched.popen
        self._cgroup = launched.cgroup
        self._pidfd = os.pidfd_open(launched.popen.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        for fd, stream in zip(launched.pipes, ("stdout", "stderr"), strict=True):
            os.set_blocking(fd, False)
            self._pipes[fd] = stream
            self._loop.add_reader(fd, self._read, fd)

    def _read(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(fd)
            os.close(fd)
            stream = self._pipes.pop(fd)
            if rest := self._partial.pop(fd, b""):
                self._output(stream, rest.decode("utf-8", "replace"))
            return
        *lines, rest = (self._partial.pop(fd, b"") + data).split(b"\n")
        for line in lines:
            self._output(self._pipes[fd], line.decode("utf-8", "replace"))
        if rest:
            self._partial[fd] = rest

    def _on_message(self, *_: object) -> None:
        assert self._control is not None
        while True:
            try:
                data = self._control.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._loop.remove_reader(self._control.fileno())
                return
            try:
                message = json.loads(data)
                self._dispatch(message)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                # The template ran the function's init: what it says is not trusted.
                logger.warning(
                    "template of %s sent %r (%s): stopped", self.spec.name, data[:200], exc
                )
                self._loop.remove_reader(self._control.fileno())
                self.kill()
                return

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "ready" in message:
            self.init_ms = (time.perf_counter() - self._started_at) * 1000
            self.state = "ready"
            below = sandbox.descendants(self._popen.pid)
            self._host_pid = below[1] if len(below) > 1 else 0
            self._output("platform", f"INIT_REPORT Init Duration: {self.init_ms:.2f} ms")
            _settle(self.ready, True)
        elif "error" in message:
            self.state = "failed"
            self.error = message["error"]
            _settle(self.ready, False)
        elif "forked" in message:
            waiter = self._forking.pop(str(message["forked"]), None)
            if waiter is not None:
                _settle(waiter, int(message.get("pid") or 0))
        elif "exited" in message:
            waiter = self._exits.pop(str(message["exited"]), None)
            if waiter is not None:
                _settle(waiter, int(message["status"]))

    def _on_exit(self) -> None:
        with contextlib.suppress(ChildProcessError):
            pid, status = os.waitpid(self._popen.pid, os.WNOHANG)
            if pid == 0:
                return
            self._popen.returncode = os.waitstatus_to_exitcode(status)
        if self._popen.returncode is None:
            self._popen.returncode = -signal.SIGKILL
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        if self.state not in ("failed", "retired"):
            self.state = "dead"
        _settle(self.ready, False)
        # Its PID namespace is gone, and with it every process it forked.
        for waiter in self._forking.values():
            _settle(waiter, 0)
        for waiter in self._exits.values():
            _settle(waiter, -signal.SIGKILL)
        for spare in self._spares:
            self._discard(spare)
        self._spares.clear()
        if self._control is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._control.fileno())
            self._control.close()
        for fd in list(self._pipes):
            self._read(fd)
        if self._cgroup is not None:
            self._cgroup.remove()
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self._wake()
        _settle(self.exited, None)

    def fail(self, error: dict[str, Any]) -> None:
        """Record that the template cannot serve (``error`` for ``status``) and stop it."""
        self.state = "failed"
        self.error = error
        _settle(self.ready, False)
        self.kill()

    def kill(self) -> None:
        """Stop the template (and, with its PID namespace, whatever it still runs)."""
        if self._popen is not None and not self.exited.done():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signal.SIGKILL)

    @property
    def host_pid(self) -> int | None:
        """The template's interpreter on the host (None before its init is over)."""
        return self._host_pid or None

    @property
    def alive(self) -> bool:
        return self.state in ("starting", "ready")

    def _send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        assert self._control is not None
        data = json.dumps(message).encode()
        # Never blocking: a template that stops reading (its init's code can stop it)
        # must not stall the platform's loop; it is stopped instead.
        try:
            if fds:
                socket.send_fds(self._control, [data], fds)
            else:
                self._control.send(data)
        except OSError as exc:
            self.kill()
            raise OSError(f"the template of {self.spec.name} does not listen: {exc}") from None

    # -- spares ------------------------------------------------------------------------------

    async def take(self, api: RuntimeAPI, parents: tuple[Any, Any] | None) -> Spare:
        """A spare fork, waiting for one to be prepared; OSError if the template cannot."""
        self._waiting += 1
        try:
            while True:
                while self._spares:
                    spare = self._spares.pop(0)
                    if not spare.exit_status.done():
                        return spare
                    self._discard(spare)
                if self.state != "ready":
                    raise OSError(f"the template is {self.state}")
                self.replenish(api, parents)
                self._changed = self._loop.create_future()
                await self._changed
        finally:
            # The next spare is asked for by the caller once this one has gone: the
            # template forks one request at a time, and the go must not queue behind it.
            self._waiting -= 1

    def replenish(self, api: RuntimeAPI, parents: tuple[Any, Any] | None) -> None:
        while self.state == "ready" and (
            len(self._spares) + self._preparing < max(_SPARES, self._waiting)
        ):
            self._preparing += 1
            task = asyncio.ensure_future(self._prepare(api, parents))
            self.preparing.add(task)
            task.add_done_callback(self.preparing.discard)
            task.add_done_callback(self._prepared)

    def _prepared(self, task: asyncio.Future[None]) -> None:
        self._preparing -= 1
        error = None if task.cancelled() else task.exception()
        if error is not None:
            logger.warning("template of %s cannot fork: %s", self.spec.name, error)
            if isinstance(error, ForkRefused):
                self.state = "unsupported"
            self.kill()
        self._wake()

    async def _prepare(self, api: RuntimeAPI, parents: tuple[Any, Any] | None) -> None:
        ident = str(next(self._ids))
        forked = self._forking[ident] = self._loop.create_future()
        self._send(
            {
                "op": "fork",
                "id": ident,
                "tmp_bytes": self.spec.ephemeral_mb * 1024 * 1024,
                "network": self.isolated,
                "seccomp": sandbox.program().hex() if sandbox.probe().seccomp else "",
            }
        )
        pid = await forked
        if not pid:
            if self.state != "ready":
                return
            raise ForkRefused("the template could not fork an instance with namespaces of its own")
        exit_status = self._exits[ident] = self._loop.create_future()
        host = await _find_host_pid(self._host_pid, pid)
        if host is None:
            raise OSError(f"cannot find the template's fork {pid} on the host")
        cgroup = None
        listener = None
        try:
            if parents is not None:
                limit = (self.spec.memory_mb + self.spec.ephemeral_mb) * 1024 * 1024
                cgroup = await asyncio.to_thread(_cgroup_for, parents, host, limit)
            if self.isolated:
                listener = await api.listen_in(host)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            self._send({"op": "drop", "id": ident})
            raise
        spare = Spare(ident, host, cgroup, listener, exit_status)
        if self.state != "ready":
            self._discard(spare)
            return
        self._spares.append(spare)

    def _discard(self, spare: Spare) -> None:
        if spare.listener is not None:
            spare.listener.close()
        if self.state == "ready":
            with contextlib.suppress(OSError):
                self._send({"op": "drop", "id": spare.ident})

        def cleanup(_: object) -> None:
            if spare.cgroup is not None:
                spare.cgroup.remove()

        spare.exit_status.add_done_callback(cleanup)

    def _wake(self) -> None:
        _settle(self._changed, None)

    def go(self, spare: Spare, env: dict[str, str]) -> tuple[int, int]:
        """Turn ``spare`` into an instance with ``env``; answers its stdout/stderr pipes."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self._send({"op": "go", "id": spare.ident, "env": env}, [out_w, err_w])
        except BaseException:
            os.close(out_r)
            os.close(err_r)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        self.forks += 1
        return out_r, err_r


def _cgroup_for(parents: tuple[Any, Any], pid: int, limit: int) -> Cgroup:
    cgroup = Cgroup.fresh(parents)
    try:
        cgroup.limit_memory(limit)
        cgroup.adopt(pid)
    except OSError:
        cgroup.remove()
        raise
    return cgroup


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


__all__ = ["ForkRefused", "Spare", "Template"]


async def _find_host_pid(template: int, pid: int, deadline_s: float = 2.0) -> int | None:
    """The host pid of the template's fork ``pid``, looked for until ``deadline_s``: the
    fork is found by walking /proc's children lists, and while it is reparented inside the
    template's PID namespace it is briefly in none of them (a window a loaded machine
    widens; seen once in the full suite as a template that "cannot fork")."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while True:
        host = sandbox.host_pid(template, pid)
        if host is not None or loop.time() >= give_up:
            return host
        await asyncio.sleep(0.01)
