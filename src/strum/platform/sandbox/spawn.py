"""Starting an instance's process: rlimits, its network namespace, and its process tree.

``spawn`` forks the function's command in a session of its own, inside a network namespace
when it has one (``new_network`` binds its listener there first); ``descendants`` finds
every process it started.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import resource
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from functools import cache

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
CLONE_NEWNET = 0x40000000


def libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _setns(descriptor: int) -> None:
    if libc().setns(descriptor, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


def new_network(port: int) -> tuple[int, socket.socket]:
    """A new network namespace (loopback up) and a listener bound in it on ``port``.

    Blocking; call it from a worker thread. Namespaces belong to threads, so the calling
    thread enters the new namespace, binds, and returns to its own before this returns.
    Answers the namespace (an fd, for ``entered``) and the listening socket.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if libc().unshare(CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
        try:
            namespace = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            _loopback_up()
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(16)
            listener.setblocking(False)
        finally:
            _setns(home)
    finally:
        os.close(home)
    return namespace, listener


def _loopback_up() -> None:
    # SIOCGIFFLAGS / SIOCSIFFLAGS on "lo": a new namespace starts with loopback down.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(control, 0x8913, request))[1]
        fcntl.ioctl(control, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))


@contextlib.contextmanager
def entered(namespace: int | None) -> Iterator[None]:
    """Run the body (a ``fork``) in network namespace ``namespace``; None: stay here."""
    if namespace is None:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(namespace)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


@cache
def _prlimit() -> str | None:
    return shutil.which("prlimit")


def spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    *,
    memory_mb: int,
    ephemeral_mb: int,
    namespace: int | None = None,
    prlimit_command: bool = False,
    pass_fds: tuple[int, ...] = (),
    run_as: int | None = None,
) -> tuple[subprocess.Popen[bytes], tuple[int, int]]:
    """Start a function process in a session of its own; returns it and its output pipes.

    Limits: RLIMIT_DATA = the function's memory (heap and anonymous mappings, so
    allocations beyond it fail instead of the machine swapping; unlike RLIMIT_AS it does
    not count the address-space reservations V8 and glibc make), RLIMIT_FSIZE = its
    ephemeral storage, no core dumps, AWS's 1024 open files. With ``prlimit_command`` (a
    bubblewrap command line) they come from ``prlimit`` in front of it, since bubblewrap
    forks at once and a limit set afterwards could miss the function; otherwise they are
    applied right after the spawn, before the interpreter has done anything that could
    exceed them. The fork happens inside network namespace ``namespace`` when given, and
    the process runs as uid and gid ``run_as`` when given.
    """
    memory = memory_mb * MiB
    limits = (
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_FSIZE, ephemeral_mb * MiB),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, 1024),
    )
    prlimit = _prlimit() if prlimit_command else None
    if prlimit is not None:
        argv = [
            prlimit,
            f"--data={memory}",
            f"--fsize={ephemeral_mb * MiB}",
            "--core=0",
            "--nofile=1024",
            "--",
            *argv,
        ]
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        with entered(namespace):
            popen = subprocess.Popen(
                argv,
                executable=argv[0],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
                pass_fds=pass_fds,
                user=run_as,
                group=run_as,
                extra_groups=None if run_as is None else [],
            )
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    if prlimit is None:
        for which, value in limits:
            try:
                resource.prlimit(popen.pid, which, (value, value))
            except (ProcessLookupError, ValueError, PermissionError) as exc:
                logger.debug("prlimit %s on %d failed: %s", which, popen.pid, exc)
    return popen, (out_r, err_r)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's children lists, every thread's: a process
    adopted by a subreaper may be listed as the child of any of its threads), nearest first."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop(0)
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        kids: list[int] = []
        for thread in threads:
            try:
                with open(f"/proc/{parent}/task/{thread}/children", "rb") as children:
                    kids += [int(child) for child in children.read().split()]
            except OSError:
                continue
        found += kids
        queue += kids
    return found
