"""Sandboxes: what the operating system enforces around each function instance.

A function runs other people's code (its dependencies), so each instance gets only what
it declared:

- **filesystem** (bubblewrap, ``bwrap``): a root of its own - the system's ``/usr``, a few
  files of ``/etc``, the interpreter, its code read-only at ``/var/task``, strum's runtime
  at ``/var/runtime``, a private ``/tmp`` (tmpfs, the function's ephemeral-storage size)
  and the extra read-only ``files`` it declared. No platform state, no other function's
  code, no home directory. Its own PID, IPC and user namespaces; no capabilities; /proc's
  global settings read-only. A root platform runs it as nobody on the host
  (``bwrap.BindMounts``).
- **network**: a network namespace of its own (only loopback) unless it declared
  network. The platform binds the instance's Runtime API listener *inside* that
  namespace (``spawn.new_network``: a worker thread enters it, binds, and leaves), so the
  function reaches ``127.0.0.1:<port>`` and nothing else - no proxy process on the
  cold-start path.
- **memory and processes**: cgroups, see ``cgroups``.
- **system calls**: a seccomp deny list, see ``seccomp``.

``probe()`` finds out once which of these this machine allows. Whatever is missing is
reported (``missing()``) and shown by ``strum platform status``; the platform runs anyway
with the rest (rlimits and an environment built from scratch always apply).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from strum.platform.sandbox import seccomp
from strum.platform.sandbox.bwrap import NOBODY, base_arguments
from strum.platform.sandbox.cgroups import probe_cgroups
from strum.platform.sandbox.spawn import new_network


@dataclass(frozen=True)
class Capabilities:
    """What this machine lets the platform enforce; ``reasons`` says why a part is missing."""

    bwrap: str | None = None
    netns: bool = False
    cgroups: tuple[Path, Path] | None = None  # (memory, pids) parents, cgroup v1
    seccomp: bool = False
    # The host uid (and gid) bubblewrap and the instance run as: nobody when the platform
    # is root (see ``bwrap.BindMounts``), so the function is not root's uid even inside its user
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
    path = shutil.which("bwrap")
    if path is None:
        why = "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap)"
        reasons["filesystem"] = reasons["pid_namespace"] = why
        return None, None
    command = [path, *base_arguments(), "--", "/usr/bin/true"]
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
