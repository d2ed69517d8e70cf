"""A template: the function's init, done once, then forked into instances on request.

The platform starts this in the function's sandbox instead of the plain bootstrap
(``$STRUM_TEMPLATE_FD`` is its control socket, ``SOCK_SEQPACKET``, one JSON message per
packet). It imports the handler - the function's whole init - runs SnapStart's
before-snapshot hooks (``snapshot_restore_py``, last registered first), reports
``{"ready": true}`` (or ``{"error": document}``, then exits), and never serves a request.
On ``{"op": "fork"}`` it forks a *spare*: a child that makes its own namespaces
(``_isolate``) and waits. On ``{"op": "go"}`` (the instance's environment, and its stdout
and stderr as passed descriptors) the spare becomes an instance: it runs the after-restore
hooks (first registered first) and then the ordinary runtime loop. ``random`` needs no
step of ours: CPython reseeds it in every forked child. The template reaps what it forked
and reports ``{"exited": id, "status": code}``.

What SnapStart users must know holds here too: sockets and files opened during init are
shared by every instance; open connections lazily, or in an after-restore hook. Threads
started during init do not survive the fork (only the forking thread does). The
function's own ``os.register_at_fork`` hooks run in each fork before its capabilities
are dropped - with power over that fork's own new namespaces only.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys

from strum.runtime._bootstrap import ShutdownSignal, _flush_stdio, _serve, _unbuffer_stdio
from strum.runtime._client import RuntimeAPIClient, RuntimeAPIError
from strum.runtime._faults import document_for, log_error
from strum.runtime._handler import load_handler
from strum.runtime.context import FunctionInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from strum.runtime._handler import Handler

_RESTORE_ERROR = "/restore/error"
_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"


def main() -> int:
    """Init, report, then fork instances until the platform closes the control socket."""
    environ = os.environ
    _unbuffer_stdio()
    control = socket.socket(fileno=int(environ.pop("STRUM_TEMPLATE_FD")))
    launched_with = dict(environ)  # what init changes (os.environ.setdefault) must survive
    sys.path.insert(0, environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    try:
        handler = load_handler(environ.get("_HANDLER", ""))
        hooks = sys.modules.get("snapshot_restore_py")
        if hooks is not None:
            for function, args, kwargs in reversed(hooks.get_before_snapshot()):
                function(*args, **kwargs)
    except Exception as exc:
        document = document_for(exc)
        log_error(document)
        _send(control, {"error": document})
        return 1
    _flush_stdio()
    _send(control, {"ready": True})
    return _Zygote(control, handler, launched_with).run()


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def _receive(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
    return (json.loads(data) if data else None), fds


class _Zygote:
    """The template's loop: fork spares, start instances, reap them."""

    def __init__(
        self, control: socket.socket, handler: Handler, launched_with: dict[str, str]
    ) -> None:
        from strum.runtime import _isolate

        self.control = control
        self.handler = handler
        self.launched_with = launched_with
        self.spares: dict[str, socket.socket] = {}  # spare id -> our end of its socket
        self.children: dict[int, str] = {}  # pid (in this namespace) -> spare id
        _isolate.become_subreaper()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def run(self) -> int:
        while True:
            try:
                readable, _, _ = select.select([self.control.fileno(), self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                while True:
                    try:
                        if not os.read(self.wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                self._reap()
            if self.control.fileno() in readable:
                message, fds = _receive(self.control)
                if message is None:
                    return 0  # the platform is gone
                self._handle(message, fds)

    def _handle(self, message: dict[str, Any], fds: list[int]) -> None:
        op, ident = message.get("op"), str(message.get("id"))
        if op == "fork":
            pid = self._fork(message)
            if pid:
                self.children[pid] = ident
            _send(self.control, {"forked": ident, "pid": pid})
        elif op == "go" and ident in self.spares:
            spare = self.spares.pop(ident)
            with contextlib.suppress(OSError):  # it died waiting; its exit is reported
                _send(spare, {"env": message["env"]}, fds)
            spare.close()
        elif op == "drop" and ident in self.spares:
            self.spares.pop(ident).close()  # it exits when it reads the end
        for fd in fds:
            os.close(fd)

    def _fork(self, message: dict[str, Any]) -> int:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            # The namespace maker: it unshares, forks the instance (PID 1 of the new PID
            # namespace; this template adopts it) and exits.
            try:
                ours.close()
                os.close(report_r)
                self._forget()
                from strum.runtime import _isolate

                _isolate.unshare(int(message["tmp_bytes"]), bool(message.get("network")))
                instance = os.fork()
                if instance == 0:
                    os.close(report_w)
                    seccomp = bytes.fromhex(message.get("seccomp", ""))
                    _spare(theirs, self.handler, seccomp, self.launched_with)
                os.write(report_w, str(instance).encode())
            except BaseException as exc:
                sys.stderr.write(f"[ERROR] template: cannot fork an instance: {exc}\n")
            finally:
                os._exit(0)
        theirs.close()
        os.close(report_w)
        try:
            answer = b""
            while chunk := os.read(report_r, 32):
                answer += chunk
        finally:
            os.close(report_r)
        if not answer:
            ours.close()
            return 0
        self.spares[str(message.get("id"))] = ours
        return int(answer)

    def _forget(self) -> None:
        """In a child: drop every handle of the template's (the control socket, other
        spares' sockets, the signal pipe), so no instance can act as the template."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.control.close()
        for spare in self.spares.values():
            spare.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ident = self.children.pop(pid, None)
            if ident is not None:
                self.spares.pop(ident, None)
                code = os.waitstatus_to_exitcode(status)
                _send(self.control, {"exited": ident, "status": code})


def _spare(
    sock: socket.socket, handler: Handler, seccomp: bytes, launched_with: dict[str, str]
) -> None:
    """A forked spare: wait for the go, become the instance, serve; never returns."""
    code = 1
    try:
        os.setsid()  # its own process group: the platform signals the group
        message, fds = _receive(sock)
        sock.close()
        if message is None or len(fds) != 2:
            os._exit(0)  # dropped
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        from strum.runtime import _isolate

        _isolate.enter(seccomp)
        environ = os.environ
        wanted: dict[str, str] = message["env"]
        # The instance's own variables (its Runtime API, log stream, credentials) replace
        # the template's; what init set or changed itself stays, as it would on Lambda.
        for name, value in launched_with.items():
            if name not in wanted and environ.get(name) == value:
                del environ[name]
        environ.update(wanted)
        client = RuntimeAPIClient(environ["AWS_LAMBDA_RUNTIME_API"])
        if not _after_restore(client):
            os._exit(1)
        code = _serve(client, handler, FunctionInfo(environ), ShutdownSignal())
    except RuntimeAPIError as exc:
        sys.stderr.write(f"[ERROR] Runtime.ClientError: {exc}\n")
    except BaseException as exc:
        sys.stderr.write(f"[ERROR] instance start failed: {exc!r}\n")
    finally:
        _flush_stdio()
        os._exit(code)


def _after_restore(client: RuntimeAPIClient) -> bool:
    """Run SnapStart's after-restore hooks in registration order; on a failure log its
    traceback, report it (``/restore/error``) and answer False."""
    hooks = sys.modules.get("snapshot_restore_py")
    if hooks is None:
        return True
    try:
        for function, args, kwargs in hooks.get_after_restore():
            function(*args, **kwargs)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        _flush_stdio()
        document = document_for(exc)
        client.post(
            _RESTORE_ERROR, json.dumps(document).encode(), ((_ERROR_TYPE, document["errorType"]),)
        )
        return False
    return True
