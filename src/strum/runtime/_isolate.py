"""What an instance forked from a template does to be an execution environment of its own.

A template runs inside the function's bubblewrap sandbox without capabilities. Each
instance it forks first unshares a user namespace of its own (which an unprivileged
process may do) and, with the capabilities that gives it there only, new mount, PID and
IPC namespaces (and a network namespace when the function has no network): a tmpfs of
its own on ``/tmp``, a ``/proc`` showing its own processes only. Before any of the
function's code runs again it gives every capability up and installs the instance's full
seccomp filter, which denies ``unshare``, ``mount`` and ``setns`` (the template's filter
allows those two so that its forks can do this). Standard library only (``ctypes``).
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAPBSET_DROP = 38, 22, 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_CHILD_SUBREAPER = 47, 4, 36
SECCOMP_MODE_FILTER = 2
_CAPABILITY_VERSION_3 = 0x20080522


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def become_subreaper() -> None:
    """Adopt the instances whose namespace-making parent has exited (to reap them)."""
    _check(_libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")


def unshare(tmp_bytes: int, network: bool) -> None:
    """New namespaces for the processes this one forks next, and its own sized /tmp."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC
    if network:
        flags |= CLONE_NEWNET
    _check(libc.unshare(flags), "unshare")
    # The same uid and gid inside (nobody), so files keep their owners.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
    _mount(libc, b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=0755")
    if network:
        _loopback_up()


def enter(seccomp_program: bytes) -> None:
    """In the instance (PID 1 of its namespace): its own /proc, then no capabilities and
    the full seccomp filter. Nothing here can be undone by the function."""
    libc = _libc()
    _mount(libc, b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    if seccomp_program:

        class _Program(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

        program = _Program(len(seccomp_program) // 8, seccomp_program)
        _check(
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0),
            "prctl(SET_SECCOMP)",
        )


def _mount(
    libc: ctypes.CDLL, source: bytes, target: bytes, fstype: bytes, flags: int, data: str
) -> None:
    _check(libc.mount(source, target, fstype, flags, data.encode() or None), f"mount {target!r}")


def _loopback_up() -> None:
    import fcntl
    import socket
    import struct

    # SIOCGIFFLAGS / SIOCSIFFLAGS on "lo": a new network namespace starts with it down.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(control, 0x8913, request))[1]
        fcntl.ioctl(control, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))
