"""A seccomp filter for function instances: the kernel interfaces a function never needs.

The sandbox already takes away capabilities, so most of these calls would fail anyway;
the filter closes what an unprivileged process in a user namespace still has - nested
namespaces (``unshare``, ``setns``, ``mount``), and kernel attack surface that exploits
favour and Lambda does not offer (``io_uring``, ``userfaultfd``, ``bpf``,
``perf_event_open``, the keyring, ``open_by_handle_at``). Everything else is allowed:
a deny list, like Docker's profile, so languages and libraries keep working.

The program is classic BPF in the form bubblewrap's ``--seccomp FD`` reads (what
libseccomp's ``seccomp_export_bpf`` writes), assembled here because it is a dozen
instructions and libseccomp's Python binding is not on PyPI. Syscalls of another ABI
(32-bit or x32 on x86_64) are refused outright, so the numbers below cannot be bypassed.
"""

from __future__ import annotations

import errno
import os
import platform
import struct
from functools import cache

# <linux/audit.h> and <linux/seccomp.h>
_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_BIT = 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_OFFSET_NR, _OFFSET_ARCH = 0, 4

# name: (x86_64 number, aarch64 number)
DENIED = {
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41),
    "unshare": (272, 97), "setns": (308, 268),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "userfaultfd": (323, 282), "bpf": (321, 280), "perf_event_open": (298, 241),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "acct": (163, 89), "swapon": (167, 224), "swapoff": (168, 225), "reboot": (169, 142),
    "syslog": (103, 116), "quotactl": (179, 60), "vhangup": (153, 58),
}  # fmt: skip
# io_uring answers "not implemented" so runtimes (libuv) fall back as on older kernels.
_NOT_IMPLEMENTED = frozenset({"io_uring_setup", "io_uring_enter", "io_uring_register"})


def supported() -> bool:
    """Whether a filter can be built for this machine's architecture."""
    return platform.machine() in _ARCH


# A template's own filter lets it do what its forks need to make their namespaces (each
# fork then installs the full filter, ``program()``, before the function runs again).
TEMPLATE_ALLOWED = frozenset({"unshare", "mount"})


@cache
def program(template: bool = False) -> bytes:
    """The filter as ``struct sock_filter`` records (host byte order); built once. A
    ``template``'s allows ``TEMPLATE_ALLOWED``."""
    machine = platform.machine()
    column = 0 if machine == "x86_64" else 1
    allowed = TEMPLATE_ALLOWED if template else frozenset()
    denied = sorted(
        ((name, numbers) for name, numbers in DENIED.items() if name not in allowed),
        key=lambda item: item[1][column],
    )
    allow = (4 if machine == "x86_64" else 3) + len(denied)
    enosys, eperm = allow + 1, allow + 2
    # (code, jump-if-true target, jump-if-false target, k), targets as absolute indexes;
    # BPF jumps are relative to the next instruction, converted below.
    absolute: list[tuple[int, int | None, int | None, int]] = [
        (_LD_W_ABS, None, None, _OFFSET_ARCH),
        (_JEQ_K, None, eperm, _ARCH[machine]),  # another ABI: refused
        (_LD_W_ABS, None, None, _OFFSET_NR),
    ]
    if machine == "x86_64":
        absolute.append((_JGE_K, eperm, None, _X32_BIT))  # x32 numbers: refused
    for name, numbers in denied:
        target = enosys if name in _NOT_IMPLEMENTED else eperm
        absolute.append((_JEQ_K, target, None, numbers[column]))
    absolute += [
        (_RET_K, None, None, _RET_ALLOW),
        (_RET_K, None, None, _RET_ERRNO | errno.ENOSYS),
        (_RET_K, None, None, _RET_ERRNO | errno.EPERM),
    ]
    assert len(absolute) == eperm + 1
    records = []
    for index, (code, when_true, when_false, k) in enumerate(absolute):
        jt = 0 if when_true is None else when_true - index - 1
        jf = 0 if when_false is None else when_false - index - 1
        records.append(struct.pack("=HBBI", code, jt, jf, k))
    return b"".join(records)


def program_fd(template: bool = False) -> int:
    """A readable fd holding the program, positioned at its start (bubblewrap reads it)."""
    descriptor = os.memfd_create("strum-seccomp", 0)
    os.write(descriptor, program(template))
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor
