"""bubblewrap: the command line that gives an instance a root of its own, the ``/etc`` it
sees, and the bind mounts an unprivileged bubblewrap needs to reach a root platform's paths.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from functools import cache
from pathlib import Path

from strum.platform.sandbox.spawn import libc

CLONE_NEWNS, CLONE_FS = 0x00020000, 0x00000200
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
NOBODY = 65534
TASK_ROOT = "/var/task"
OPT = "/opt"  # where a function's layers are, as on Lambda
RUNTIME_DIR = "/var/runtime"
# The AWS SDK for Python (boto3 and what it imports), where AWS's runtimes keep theirs: on
# sys.path after the function's own code, so a version in the package wins.
SDK_DIR = "/var/lang/sdk"
# /etc entries programs need (DNS, TLS roots, users, the dynamic loader, time zones, MIME
# types), copied once into a directory of the platform's (``prepare_etc``); the rest of
# /etc (shadow, ssh and TLS private keys, the host's configuration) stays out of sight.
_ETC = (
    "alternatives", "ca-certificates", "ca-certificates.conf", "gai.conf", "group",
    "host.conf", "hosts", "ld.so.cache", "localtime", "mime.types", "nsswitch.conf",
    "passwd", "pki", "protocols", "resolv.conf", "services", "ssl",
)  # fmt: skip
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class BindMounts:
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
        if libc().unshare(CLONE_NEWNS | CLONE_FS) != 0:
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
        """A declared path, bound under the mounts' root (in the spawning thread)."""
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
    if libc().mount(*arguments, flags, data.encode() if data else None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def base_arguments() -> list[str]:
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
    mounts: BindMounts | None = None,
    volumes: tuple[tuple[Path, str], ...] = (),
    sdk_dir: Path | None = None,
    opt_dir: Path | None = None,
) -> list[str]:
    """The bubblewrap command line that runs ``command`` in an instance's sandbox
    (``seccomp_fd``: a filter program for bubblewrap to read and apply; ``mounts``: where
    an unprivileged bubblewrap reaches the sources - call this in the spawning thread;
    ``volumes``: (directory, mount path) pairs bound read-write; ``sdk_dir``: the AWS SDK
    packages, bound read-only at ``SDK_DIR``; ``opt_dir``: the function's layers, merged,
    read-only at /opt)."""
    arguments = [bwrap, *base_arguments()]
    if seccomp_fd is not None:
        arguments += ["--seccomp", str(seccomp_fd)]
    prefix = interpreter_prefix()
    if mounts is not None:
        etc_dir, code_dir = mounts.path("etc"), Path(mounts.locate(code_dir))
        runtime_package = mounts.path("runtime")
    arguments += ["--ro-bind", str(etc_dir), "/etc"]
    if not prefix.is_relative_to("/usr"):
        source = mounts.path("python") if mounts is not None else prefix
        arguments += ["--ro-bind", str(source), str(prefix)]
    arguments += ["--ro-bind", str(code_dir), TASK_ROOT]
    if opt_dir is not None:
        layers = mounts.locate(opt_dir) if mounts is not None else str(opt_dir)
        arguments += ["--ro-bind", layers, OPT]
    arguments += ["--ro-bind", str(runtime_package), f"{RUNTIME_DIR}/strum"]
    if sdk_dir is not None:
        sdk_source = mounts.locate(sdk_dir) if mounts is not None else str(sdk_dir)
        arguments += ["--ro-bind", sdk_source, SDK_DIR]
    arguments += ["--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for directory, mount_path in volumes:
        # Read-write, and left writable by --remount-ro below (it changes / alone).
        source_dir = mounts.locate(directory) if mounts is not None else str(directory)
        arguments += ["--bind", source_dir, mount_path]
    for path in files:
        source_path = mounts.extra(path) if mounts is not None else path
        arguments += ["--ro-bind-try", source_path, path]
    # The root bubblewrap builds is a writable tmpfs; only /tmp (sized) and the volumes
    # may be written.
    arguments += ["--remount-ro", "/", "--chdir", TASK_ROOT, "--", *command]
    return arguments
