"""Templates: one initialised process per Python function version, forked into instances.

The platform's answer to SnapStart. A template is started like an instance (same
sandbox, cgroup, uid and environment) but runs ``strum.runtime._zygote``: it imports the
handler, runs the before-snapshot hooks, reports ready and then only forks. Each fork
makes a user namespace of its own and, inside it, its own mount (a sized tmpfs on
``/tmp``), PID (its own ``/proc``), IPC and - for a function without network - network
namespace, drops every capability, installs the instance's full seccomp filter and joins
a memory cgroup of its own. So an instance from a template is isolated as one started
the old way; its cold start costs a fork instead of an interpreter and the app's imports.

One *spare* fork per template is kept ready (namespaces made, cgroup joined, listener
bound), so a cold start only hands it its environment and its stdout/stderr. The
template never serves a request. Its instances live in its PID namespace: when a
template dies (``kill -9``) they die with it, and the next cold start starts a new
template. A code or configuration change retires a template; it is stopped once its last
instance has gone. A template whose init fails keeps the error (``status``) and cold
starts of that version take the old path, which reports the failure exactly as before.
Custom runtimes, and machines where a fork cannot make its namespaces, keep the old path.
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
from strum.platform.engine.instances import ForkedProcess, Instance, InstanceEvents
from strum.platform.engine.launch import Launcher
from strum.platform.engine.runtime_api import Listener, RuntimeAPI
from strum.platform.errors import PlatformError
from strum.platform.sandbox import Cgroup
from strum.platform.settings import Settings
from strum.platform.spec import FunctionSpec

logger = logging.getLogger(__name__)

# AWS bounds a SnapStart restore plus its after-restore hooks by 10 seconds.
# https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks.html
RESTORE_TIMEOUT_S = 10.0
_SPARES = 1  # forks kept ready per template, beyond cold starts already waiting


class SnapStartError(PlatformError):
    """An Invoke API error of SnapStart's (``SnapStartException`` 400,
    ``SnapStartTimeoutException`` 408), raised instead of the function's result."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


def restore_timed_out() -> tuple[int, str, str]:
    """The ``service_error`` of an instance that did not restore within 10 s."""
    return (
        408,
        "SnapStartTimeoutException",
        "Lambda couldn't restore the snapshot within the timeout limit.",
    )


@dataclass
class _Spare:
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
        self.forks = 0
        self.exited: asyncio.Future[None] = loop.create_future()
        self._output = output
        self._loop = loop
        self._ids = itertools.count()
        self._spares: list[_Spare] = []
        self._preparing = 0
        self.preparing: set[asyncio.Future[None]] = set()  # spares being prepared
        self._waiting = 0
        self._changed: asyncio.Future[None] = loop.create_future()
        self._forking: dict[str, asyncio.Future[int]] = {}
        self._exits: dict[str, asyncio.Future[int]] = {}
        self._started_at = time.perf_counter()
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
            self._dispatch(json.loads(data))

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
        self._control.setblocking(True)
        try:
            if fds:
                socket.send_fds(self._control, [data], fds)
            else:
                self._control.send(data)
        finally:
            self._control.setblocking(False)

    # -- spares ------------------------------------------------------------------------------

    async def take(self, api: RuntimeAPI, parents: tuple[Any, Any] | None) -> _Spare:
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
            self._waiting -= 1
            self.replenish(api, parents)

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
        if not task.cancelled() and task.exception() is not None:
            logger.warning("template of %s cannot fork: %s", self.spec.name, task.exception())
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
            raise OSError("the template could not fork an instance with namespaces of its own")
        exit_status = self._exits[ident] = self._loop.create_future()
        host = sandbox.host_pid(self._host_pid, pid)
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
        spare = _Spare(ident, host, cgroup, listener, exit_status)
        if self.state != "ready":
            self._discard(spare)
            return
        self._spares.append(spare)

    def _discard(self, spare: _Spare) -> None:
        if spare.listener is not None:
            spare.listener.close()
        if self.state == "ready":
            self._send({"op": "drop", "id": spare.ident})

        def cleanup(_: object) -> None:
            if spare.cgroup is not None:
                spare.cgroup.remove()

        spare.exit_status.add_done_callback(cleanup)

    def _wake(self) -> None:
        _settle(self._changed, None)

    def go(self, spare: _Spare, env: dict[str, str]) -> tuple[int, int]:
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


class Templates:
    """The templates of one engine: which functions get one, starting, forking, retiring."""

    def __init__(
        self,
        launcher: Launcher,
        runtime_api: RuntimeAPI,
        settings: Settings,
        output: Callable[[FunctionSpec, str, str], None],
    ) -> None:
        self.launcher = launcher
        self.runtime_api = runtime_api
        self.settings = settings
        self._output = output
        self._templates: dict[tuple[str, str, str, str], Template] = {}
        self._retired: set[Template] = set()
        self._ids = itertools.count()
        self.unsupported: str | None = None  # why no cold start forks here, if so
        self.restore_timeout_s = RESTORE_TIMEOUT_S

    def reason(self) -> str | None:
        """Why cold starts start a new interpreter on this platform (None: they fork)."""
        if not self.settings.templates:
            return "turned off (settings.templates)"
        caps = self.launcher.sandbox
        if caps.bwrap is None:
            return (
                "no sandbox (bubblewrap) to give each fork its own /tmp and PID view: "
                "cold starts start a new interpreter"
            )
        if caps.run_as is None:
            return (
                "the sandbox runs as the platform's uid, whose root a fork's fresh /proc "
                "would expose: cold starts start a new interpreter"
            )
        return self.unsupported

    def eligible(self, spec: FunctionSpec) -> bool:
        """Whether ``spec``'s cold starts fork a template (Python, sandboxed, supported).

        Declared ``files`` under /tmp keep the old path: a fork's own /tmp would cover them.
        """
        if any(path == "/tmp" or path.startswith("/tmp/") for path in spec.files):
            return False
        return spec.runtime.startswith("python") and self.reason() is None

    async def instance(
        self, spec: FunctionSpec, ident: str, events: InstanceEvents, *, provisioned: bool
    ) -> Instance | None:
        """A new instance of ``spec`` forked from its template (started and initialised
        first if need be); None when the old path must start it (init failed, ...)."""
        template = self._templates.get(spec.instance_key)
        if template is not None and template.state == "failed":
            return None  # its init failed: the old path reports that failure as before
        if template is None or not template.alive:
            template = await self._start(spec)
            if template is None:
                return None
        if not await asyncio.shield(template.ready):
            return None
        if template.idle_timer is not None:
            template.idle_timer.cancel()
            template.idle_timer = None
        parents = self.launcher.sandbox.cgroups
        try:
            spare = await template.take(self.runtime_api, parents)
        except OSError as exc:
            logger.debug("no fork of %s's template: %s", spec.name, exc)
            if template.state == "unsupported":
                self.unsupported = (
                    "a template could not fork an instance with its own namespaces here "
                    "(see the function's log): cold starts start a new interpreter"
                )
            return None
        listener = spare.listener or await self.runtime_api.listen()
        env = self.launcher.instance_env(
            spec, ident, listener.port, template.isolated, provisioned=provisioned
        )
        try:
            pipes = template.go(spare, env)
        except OSError:
            listener.close()
            return None
        instance = Instance(
            spec,
            ident,
            listener.port,
            ForkedProcess(spare.host_pid),
            pipes,
            events,
            listener.close,
            "",
            cgroup=spare.cgroup,
            exit_status=spare.exit_status,
        )
        listener.attach(instance)
        template.instances += 1
        instance.exited.add_done_callback(lambda _: self._instance_gone(template))
        return instance

    def _instance_gone(self, template: Template) -> None:
        template.instances -= 1
        if template.instances:
            return
        if template.state == "retired" or template in self._retired:
            template.kill()
        elif template.alive and template.idle_timer is None:
            template.idle_timer = asyncio.get_running_loop().call_later(
                self.settings.idle_timeout_s, self._idle, template
            )

    def _idle(self, template: Template) -> None:
        template.idle_timer = None
        if template.instances == 0:
            self._forget(template)
            template.kill()

    async def _start(self, spec: FunctionSpec) -> Template | None:
        isolated = self.launcher.isolates(spec)
        template = Template(spec, isolated, lambda stream, line: self._output(spec, stream, line))
        self._templates[spec.instance_key] = template
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener = await (
            self.runtime_api.listen_isolated() if isolated else self.runtime_api.listen()
        )
        ident = f"template{os.getpid():x}{next(self._ids):06x}"
        try:
            launched = await self.launcher.launch(
                spec,
                self.launcher.template_argv(spec),
                ident,
                listener,
                isolated,
                template_fd=theirs.detach(),
            )
        except (OSError, ValueError) as exc:
            ours.close()
            self._forget(template)
            logger.warning("cannot start a template of %s: %s", spec.name, exc)
            return None
        finally:
            # The template never calls the Runtime API; its namespace lives on in it.
            listener.close()
        template.attach(ours, launched)
        template.exited.add_done_callback(lambda _: self._gone(template))
        return template

    def _gone(self, template: Template) -> None:
        if template.state != "failed":  # kept, with its error, until a change retires it
            self._forget(template)
        self._retired.discard(template)

    def _forget(self, template: Template) -> None:
        if self._templates.get(template.spec.instance_key) is template:
            del self._templates[template.spec.instance_key]

    def retire(self, name: str, version: str | None = None) -> None:
        """Retire ``name``'s templates (one version, or all): no more forks; each is
        stopped once its last instance has gone."""
        for template in list(self._templates.values()):
            spec = template.spec
            if spec.name == name and (version is None or spec.version == version):
                self._forget(template)
                if template.state != "failed":
                    template.state = "retired"
                self._retired.add(template)
                if template.instances == 0:
                    template.kill()

    async def stop(self) -> None:
        templates = [*self._templates.values(), *self._retired]
        for template in templates:
            template.kill()
        waiting = [t.exited for t in templates if t._popen is not None]
        waiting += [task for t in templates for task in t.preparing]
        if waiting:
            await asyncio.wait(waiting, timeout=10)
        self._templates.clear()
        self._retired.clear()

    def status(self) -> dict[str, Any]:
        """What ``strum platform status`` shows: whether cold starts fork, and each template."""
        return {
            "enabled": self.reason() is None,
            "reason": self.reason(),
            "templates": [
                {
                    "function": t.spec.name,
                    "version": t.spec.version,
                    "state": t.state,
                    "instances": t.instances,
                    "cold_starts_forked": t.forks,
                    "init_ms": None if t.init_ms is None else round(t.init_ms, 2),
                    "pid": t.host_pid,
                    "error": t.error,
                }
                for t in [*self._templates.values(), *self._retired]
            ],
        }
