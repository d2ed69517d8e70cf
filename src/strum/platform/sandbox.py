"""Sandboxes: what the operating system enforces around each function instance.

A function runs other people's code (its dependencies), so each instance gets only what
it declared:

- **filesystem** (bubblewrap): a root of its own - the system's ``/usr``, a few files of
  ``/etc``, the interpreter, its code read-only at ``/var/task``, strum's runtime at
  ``/var/runtime``, a private ``/tmp`` (tmpfs, the function's ephemeral-storage size) and
  the extra read-only ``files`` it declared. No platform state, no other function's code,
  no home directory. Its own PID, IPC and user namespaces; no capabilities; /proc's
  global settings read-only. A root platform runs it as nobody on the host (``Staging``).
- **network**: a network namespace of its own (only loopback) unless it declared
  network. The platform binds the instance's Runtime API listener *inside* that
  namespace (a worker thread enters it, binds, and leaves), so the function reaches
  ``127.0.0.1:<port>`` and nothing else - no proxy process on the cold-start path.
- **memory and processes**: cgroups, see ``strum.platform.cgroups``.
- **system calls**: a seccomp deny list, see ``strum.platform.seccomp``.

``probe()`` finds out once which of these this machine allows. Whatever is missing is
reported (``missing()``) and shown by ``strum platform status``; the platform runs anyway
with the rest (rlimits and an environment built from scratch always apply).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import platform
import shutil
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from strum.platform import seccomp
from strum.platform.cgroups import probe_cgroups

CLONE_NEWNET = 0x40000000
CLONE_NEWNS, CLONE_FS = 0x00020000, 0x00000200
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
NOBODY = 65534
TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
# /etc entries programs need (DNS, TLS roots, users, the dynamic loader, time zones, MIME
# types), copied once into a directory of the platform's (``prepare_etc``); the rest of
# /etc (shadow, ssh and TLS private keys, the host's configuration) stays out of sight.
_ETC = (
    "alternatives", "ca-certificates", "ca-certificates.conf", "gai.conf", "group",
    "host.conf", "hosts", "ld.so.cache", "localtime", "mime.types", "nsswitch.conf",
    "passwd", "pki", "protocols", "resolv.conf", "services", "ssl",
)  # fmt: skip
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class Capabilities:
    """What this machine lets the platform enforce; ``reasons`` says why a part is missing."""

    bwrap: str | None = None
    netns: bool = False
    cgroups: tuple[Path, Path] | None = None  # (memory, pids) parents, cgroup v1
    seccomp: bool = False
    # The host uid (and gid) bubblewrap and the instance run as: nobody when the platform
    # is root (see ``Staging``), so the function is not root's uid even inside its user
    # namespace; None: the platform's own uid.
    run_as: int | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    @classmethod
    def off(cls, why: str) -> Capabilities:
        """No sandbox at all, for ``why``."""
        parts = ("filesystem", "pid_namespace", "network", "cgroups", "seccomp")
        return cls(reasons=dict.fromkeys(parts, why))

    def enforcement(self) -> dict[str, object]:
        """What ``strum platform status`` shows: each mechanism and whether it applies."""
        return {
            "filesystem": bool(self.bwrap),
            "pid_namespace": bool(self.bwrap),
            "network_namespace": self.netns,
            "cgroups": self.cgroups is not None,
            "seccomp": self.seccomp,
            "host_uid": "nobody" if self.run_as is not None else "the platform's",
            "rlimits": {
                "RLIMIT_DATA": "MemorySize (allocation failure -> Runtime.OutOfMemory)",
                "RLIMIT_FSIZE": "EphemeralStorage",
                "RLIMIT_NOFILE": 1024,
                "RLIMIT_CORE": 0,
            },
            "environment": "built from scratch: Lambda variables, the function's own, declared pass-throughs",
            "not_enforced": dict(self.reasons),
        }

    def missing(self) -> list[str]:
        """One line per mechanism that is not enforced, saying why and how to get it."""
        return [f"{part}: {why}" for part, why in self.reasons.items()]


@cache
def probe() -> Capabilities:
    """Find out which sandboxing mechanisms work here (run once per process)."""
    reasons: dict[str, str] = {}
    bwrap, run_as = _probe_bwrap(reasons)
    netns = _probe_netns(reasons)
    cgroups = probe_cgroups(reasons)
    filtered = bool(bwrap) and seccomp.supported()
    if not filtered:
        reasons["seccomp"] = (
            "needs bubblewrap" if not bwrap else f"no filter for {platform.machine()} yet"
        )
    return Capabilities(
        bwrap=bwrap,
        netns=netns,
        cgroups=cgroups,
        seccomp=filtered,
        run_as=run_as,
        reasons=reasons,
    )


def _probe_bwrap(reasons: dict[str, str]) -> tuple[str | None, int | None]:
    """bubblewrap's path if it runs here, and the uid to run it as (``run_as``)."""
    import subprocess

    path = shutil.which("bwrap")
    if path is None:
        why = "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap)"
        reasons["filesystem"] = reasons["pid_namespace"] = why
        return None, None
    command = [path, *_base_arguments(), "--", "/usr/bin/true"]
    failure = ""
    for run_as in (NOBODY, None) if os.geteuid() == 0 else (None,):
        check = subprocess.run(
            command,
            capture_output=True,
            timeout=10,
            check=False,
            user=run_as,
            group=run_as,
            extra_groups=None if run_as is None else [],
        )
        if check.returncode == 0:
            if failure:
                reasons["unprivileged_uid"] = (
                    f"instances run as root's uid inside their user namespace: bubblewrap "
                    f"cannot run as nobody ({failure}); enable unprivileged user namespaces"
                )
            return path, run_as
        failure = check.stderr.decode(errors="replace").strip()
    why = (
        f"bubblewrap does not run here ({failure}); if it cannot create namespaces, enable "
        "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
    )
    reasons["filesystem"] = reasons["pid_namespace"] = why
    return None, None


def _probe_netns(reasons: dict[str, str]) -> bool:
    if sys.platform != "linux":
        reasons["network"] = "network namespaces are Linux-only"
        return False
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            descriptor, listener = new_network(0)
            os.close(descriptor)
            listener.close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=attempt, name="strum-netns-probe")
    thread.start()
    thread.join()
    if outcome[0] is not None:
        reasons["network"] = (
            f"cannot create a network namespace ({outcome[0]}); it needs root "
            "(CAP_SYS_ADMIN) - functions reach the network even without declaring it"
        )
        return False
    return True


# -- network namespaces ----------------------------------------------------------------------


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _setns(descriptor: int) -> None:
    if _libc().setns(descriptor, CLONE_NEWNET) != 0:
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
        if _libc().unshare(CLONE_NEWNET) != 0:
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


# -- staging ------------------------------------------------------------------------------------


class Staging:
    """Where an unprivileged bubblewrap finds the paths it mounts.

    A root platform keeps code, its interpreter and its state under root-only directories
    (``/root``), which nobody cannot traverse - and bubblewrap resolves every source path
    as the user it runs as. So the spawning thread gets a mount namespace of its own, with
    a tmpfs at ``root`` holding bind mounts of those paths (``sources``, by name): nobody
    reaches them there, and the host never sees any of it. Declared ``files`` are bound
    on first use.
    """

    def __init__(self, root: Path, sources: dict[str, Path]) -> None:
        self.root = root
        self.sources = sources
        self._extra: dict[str, str] = {}

    def enter(self) -> None:
        """Run once, in the spawning thread."""
        if _libc().unshare(CLONE_NEWNS | CLONE_FS) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"unshare: {os.strerror(error)}")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates to the host
        _mount("tmpfs", str(self.root), "tmpfs", 0, "mode=0755")
        for name, source in self.sources.items():
            target = self.root / name
            target.mkdir()
            _mount(str(source), str(target), None, MS_BIND | MS_REC)

    def path(self, name: str) -> Path:
        """Where ``sources[name]`` is reached."""
        return self.root / name

    def locate(self, path: Path) -> str:
        """Where ``path`` is reached: inside a staged source, else bound on first use."""
        for name, source in self.sources.items():
            if path.is_relative_to(source):
                return str(self.root / name / path.relative_to(source))
        return self.extra(str(path))

    def extra(self, path: str) -> str:
        """A declared path, bound into the staging area (in the spawning thread)."""
        staged = self._extra.get(path)
        if staged is None:
            source = Path(path)
            if not source.exists():
                return path  # --ro-bind-try skips it
            target = self.root / "files" / str(len(self._extra))
            target.parent.mkdir(exist_ok=True)
            if source.is_dir():
                target.mkdir()
            else:
                target.touch()
            _mount(path, str(target), None, MS_BIND | MS_REC)
            self._extra[path] = staged = str(target)
        return staged


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    arguments = [None if value is None else value.encode() for value in (source, target, fstype)]
    if _libc().mount(*arguments, flags, data.encode() if data else None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


# -- bubblewrap -------------------------------------------------------------------------------


def _base_arguments() -> list[str]:
    return list(_base_tuple())


@cache
def _base_tuple() -> tuple[str, ...]:
    arguments = [
        "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--uid", "65534", "--gid", "65534",
        "--hostname", "localhost", "--cap-drop", "ALL", "--die-with-parent",
        "--ro-bind", "/usr", "/usr", "--proc", "/proc",
    ]  # fmt: skip
    # A platform run as root maps the instance to root's uid inside its user namespace, and
    # some of /proc trusts that uid without asking for capabilities: global sysctls, the
    # IRQ settings and the SysRq trigger (reboot). They become read-only.
    for setting in ("/proc/sys", "/proc/irq", "/proc/sysrq-trigger"):
        if os.path.exists(setting):
            arguments += ["--ro-bind", setting, setting]
    # AWS's /dev, bound node by node: cheaper than bubblewrap's --dev (which also mounts
    # devpts and a tty), and Lambda has no /dev/shm either.
    for node in ("null", "zero", "random", "urandom"):
        arguments += ["--dev-bind", f"/dev/{node}", f"/dev/{node}"]
    arguments += ["--symlink", "/proc/self/fd", "/dev/fd"]
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        arguments += ["--symlink", f"/proc/self/fd/{number}", f"/dev/{name}"]
    for name in _TOP_LEVEL:
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    return tuple(arguments)


def prepare_etc(destination: Path) -> Path:
    """Copy the /etc entries instances see into ``destination`` (bound as one mount).

    One bind of a prepared directory instead of one per file: every bind mount costs the
    cold start. Symbolic links are kept (their targets lie in /usr, which is bound too);
    /etc/ssl/private is never copied. ``refresh_etc`` keeps DNS settings current.
    """
    staging = destination.with_name(destination.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in _ETC:
        source = Path("/etc") / name
        if source.is_dir():
            shutil.copytree(
                source,
                staging / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("private"),
                ignore_dangling_symlinks=True,
            )
        elif source.exists():
            shutil.copyfile(source, staging / name)
    for path in [staging, *staging.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)
    return destination


def refresh_etc(destination: Path) -> None:
    """Re-copy the files that change while a machine runs (DNS, hosts) when they did."""
    for name in ("resolv.conf", "hosts"):
        source, copy = Path("/etc") / name, destination / name
        try:
            if source.stat().st_mtime > copy.stat().st_mtime:
                shutil.copyfile(source, copy.with_suffix(".new"))
                copy.with_suffix(".new").replace(copy)
        except OSError:
            continue


def interpreter_prefix() -> Path:
    """The directory tree of the host interpreter (its standard library included)."""
    return Path(sys.base_prefix).resolve()


def interpreter() -> str:
    """The host interpreter, by its real path (a venv's ``bin/python`` is a symlink to it)."""
    return os.path.realpath(sys.executable)


def bwrap_command(
    bwrap: str,
    command: list[str],
    *,
    etc_dir: Path,
    code_dir: Path,
    runtime_package: Path,
    tmp_bytes: int,
    files: tuple[str, ...],
    seccomp_fd: int | None = None,
    staging: Staging | None = None,
) -> list[str]:
    """The bubblewrap command line that runs ``command`` in an instance's sandbox
    (``seccomp_fd``: a filter program for bubblewrap to read and apply; ``staging``: where
    an unprivileged bubblewrap reaches the sources - call this in the spawning thread)."""
    arguments = [bwrap, *_base_arguments()]
    if seccomp_fd is not None:
        arguments += ["--seccomp", str(seccomp_fd)]
    prefix = interpreter_prefix()
    if staging is not None:
        etc_dir, code_dir = staging.path("etc"), Path(staging.locate(code_dir))
        runtime_package = staging.path("runtime")
    arguments += ["--ro-bind", str(etc_dir), "/etc"]
    if not prefix.is_relative_to("/usr"):
        source = staging.path("python") if staging is not None else prefix
        arguments += ["--ro-bind", str(source), str(prefix)]
    arguments += ["--ro-bind", str(code_dir), TASK_ROOT]
    arguments += ["--ro-bind", str(runtime_package), f"{RUNTIME_DIR}/strum"]
    arguments += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for path in files:
        source_path = staging.extra(path) if staging is not None else path
        arguments += ["--ro-bind-try", source_path, path]
    # The root bubblewrap builds is a writable tmpfs; only /tmp (sized) may be written.
    arguments += ["--remount-ro", "/", "--chdir", TASK_ROOT, "--", *command]
    return arguments


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's children lists), nearest first."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop(0)
        try:
            with open(f"/proc/{parent}/task/{parent}/children", "rb") as children:
                kids = [int(child) for child in children.read().split()]
        except OSError:
            continue
        found += kids
        queue += kids
    return found


__all__ = [
    "NOBODY",
    "RUNTIME_DIR",
    "TASK_ROOT",
    "Capabilities",
    "Staging",
    "bwrap_command",
    "descendants",
    "entered",
    "interpreter",
    "interpreter_prefix",
    "new_network",
    "prepare_etc",
    "probe",
    "refresh_etc",
]
