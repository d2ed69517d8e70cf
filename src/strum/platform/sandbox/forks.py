"""What the platform does for instances forked from a template (``strum.runtime._zygote``):
find a fork's host pid from the pid its template reports, and bind a Runtime API listener
inside the network namespace the fork made.
"""

from __future__ import annotations

import os
import socket

from strum.platform.sandbox.spawn import _loopback_up, _setns, descendants

__all__ = ["bind_in_network", "host_pid", "template_arguments"]

# bubblewrap arguments that cover parts of /proc read-only (``bwrap.base_arguments``).
_PROC_COVERS = ("/proc/sys", "/proc/irq", "/proc/sysrq-trigger")


def template_arguments(argv: list[str]) -> list[str]:
    """A template's bubblewrap command line: the instance's, less the read-only covers
    over parts of /proc. Locked in a fork's user namespace, they would forbid the fresh
    /proc it mounts (the kernel refuses a procfs where a mounted-over one hides parts).
    Only for a sandbox run as nobody: then the host's root is not mapped inside, and
    those files are not writable to the function anyway (the covers are for a sandbox
    that maps the platform's root)."""
    result: list[str] = []
    index = 0
    while index < len(argv):
        if argv[index] == "--":
            result += argv[index:]
            break
        if (
            argv[index] == "--ro-bind"
            and index + 2 < len(argv)
            and argv[index + 1] == argv[index + 2]
            and argv[index + 1] in _PROC_COVERS
        ):
            index += 3
            continue
        result.append(argv[index])
        index += 1
    return result


def host_pid(ancestor: int, namespace_pid: int) -> int | None:
    """The host pid of the process below ``ancestor`` whose pid in ``ancestor``'s own
    PID namespace is ``namespace_pid`` (from /proc's ``NSpid``), or None."""
    depth = _depth(ancestor)
    if depth is None:
        return None
    for pid in descendants(ancestor):
        levels = _nspids(pid)
        if levels is not None and len(levels) > depth and levels[depth] == namespace_pid:
            return pid
    return None


def _depth(pid: int) -> int | None:
    levels = _nspids(pid)
    return None if levels is None else len(levels) - 1


def _nspids(pid: int) -> list[int] | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"NSpid:"):
                    return [int(value) for value in line.split()[1:]]
    except (OSError, ValueError):
        return None
    return None


def bind_in_network(pid: int, port: int) -> socket.socket:
    """A listener on 127.0.0.1:``port`` inside process ``pid``'s network namespace.

    Blocking; call it from a worker thread (namespaces belong to threads: the thread
    enters the namespace, binds, and returns to its own). Raises OSError.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        _setns(target)
        try:
            _loopback_up()  # the fork brought it up; a second time costs nothing
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(("127.0.0.1", port))
                listener.listen(16)
                listener.setblocking(False)
            except OSError:
                listener.close()
                raise
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
    return listener
