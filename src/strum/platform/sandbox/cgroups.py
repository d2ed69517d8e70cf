"""cgroups (v1) for function instances: memory and task limits, one pair per instance.

The memory limit is the function's size plus its /tmp (tmpfs pages are charged to the
cgroup that writes them); the task limit is AWS's 1,024 processes and threads. Each
platform makes its cgroups under its own (``strum-<pid>``); ``Spawner`` forks every
instance from inside its cgroups.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MAX_TASKS = 1024  # AWS Lambda's limit on processes and threads per execution environment


def probe_cgroups(reasons: dict[str, str]) -> tuple[Path, Path] | None:
    parents = []
    for controller in ("memory", "pids"):
        own = _own_cgroup(controller)
        base = Path("/sys/fs/cgroup") / controller
        if own is None or not base.is_dir():
            reasons["cgroups"] = (
                "no cgroup v1 memory and pids hierarchies (cgroup v2 is not supported yet); "
                "memory is limited with RLIMIT_DATA, processes are not limited"
            )
            return None
        parent = base / own.lstrip("/") / f"strum-{os.getpid()}"
        try:
            parent.mkdir(exist_ok=True)
        except OSError as exc:
            reasons["cgroups"] = (
                f"cannot create cgroups under {parent.parent} ({exc.strerror}); run the "
                "platform as root or delegate the cgroup - memory is limited with RLIMIT_DATA, "
                "processes are not limited"
            )
            return None
        parents.append(parent)
    return parents[0], parents[1]


def _own_cgroup(controller: str) -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


class Cgroup:
    """One instance's memory and pids cgroups (v1), named ``name`` under ``parents``."""

    def __init__(self, parents: tuple[Path, Path], name: str) -> None:
        self.memory = parents[0] / name
        self.pids = parents[1] / name
        for path in (self.memory, self.pids):
            # The parents go when a platform stops; the probe is cached per process.
            path.parent.mkdir(exist_ok=True)
            path.mkdir()
        (self.pids / "pids.max").write_text(str(MAX_TASKS))

    def limit_memory(self, limit: int) -> None:
        (self.memory / "memory.limit_in_bytes").write_text(str(limit))

    def join(self) -> None:
        """Move the calling thread into these cgroups (what it forks starts in them)."""
        thread = str(threading.get_native_id())
        (self.memory / "tasks").write_text(thread)
        (self.pids / "tasks").write_text(thread)

    def adopt(self, pid: int) -> None:
        """Move process ``pid`` (one that has not forked yet) into these cgroups."""
        (self.memory / "cgroup.procs").write_text(str(pid))
        (self.pids / "cgroup.procs").write_text(str(pid))

    @classmethod
    def fresh(cls, parents: tuple[Path, Path]) -> Cgroup:
        """A new pair of cgroups under ``parents``, named in this process's sequence."""
        return cls(parents, f"i{next(_CGROUP_IDS)}")

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer struck inside this cgroup."""
        try:
            text = (self.memory / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value) > 0
        return False

    def remove(self) -> None:
        for path in (self.memory, self.pids):
            with contextlib.suppress(OSError):
                path.rmdir()


# One sequence per process: several platforms (tests) share this process's cgroup parents.
_CGROUP_IDS = itertools.count()


class Spawner:
    """Forks instances from one thread of its own, which already sits in the next cgroup.

    A process must start inside its cgroups - moved in afterwards, it could fork first
    (cgroup v1 has no ``CLONE_INTO_CGROUP``). Moving a thread costs milliseconds (cgroup v1
    waits for an RCU grace period per move), so the spawning thread moves into the *next*
    instance's cgroups right after each fork, off the cold-start path; the fork itself
    then costs one hop to this thread. ``init`` runs first in the thread (the sandbox's
    bind-mount namespace); without ``parents`` there are no cgroups.
    """

    def __init__(
        self, parents: tuple[Path, Path] | None, init: Callable[[], None] | None = None
    ) -> None:
        self._parents = parents
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="strum-spawn")
        self._ready: Cgroup | None = None
        self._started = self._executor.submit(self._start, init)

    def _start(self, init: Callable[[], None] | None) -> None:
        if init is not None:
            init()
        self._prepare()

    def _prepare(self) -> None:
        if self._parents is None:
            return
        cgroup = Cgroup(self._parents, f"i{next(_CGROUP_IDS)}")
        cgroup.join()
        self._ready = cgroup

    async def ready(self) -> None:
        """Wait for the thread's set-up (raises what ``init`` raised)."""
        await asyncio.wrap_future(self._started)

    async def spawn(self, fork: Callable[[], T], memory_limit: int) -> tuple[T, Cgroup | None]:
        """Run ``fork`` in the spawning thread, inside a cgroup limited to ``memory_limit``."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[T, Cgroup | None]] = loop.create_future()

        def job() -> None:
            try:
                if self._ready is None:
                    self._prepare()
                cgroup = self._ready
                if cgroup is not None:
                    cgroup.limit_memory(memory_limit)
                result = fork()
            except BaseException as exc:  # handed to the awaiting coroutine
                loop.call_soon_threadsafe(_settle, answer, None, exc)
                return
            self._ready = None
            loop.call_soon_threadsafe(_settle, answer, (result, cgroup), None)
            with contextlib.suppress(OSError):
                self._prepare()

        self._executor.submit(job)
        return await answer

    def close(self) -> None:
        """Stop the thread and remove the cgroup it was waiting in."""

        def leave() -> None:
            thread = str(threading.get_native_id())
            for controller in ("memory", "pids") if self._parents else ():
                own = _own_cgroup(controller) or "/"
                home = Path("/sys/fs/cgroup") / controller / own.lstrip("/")
                with contextlib.suppress(OSError):
                    (home / "tasks").write_text(thread)
            if self._ready is not None:
                self._ready.remove()
                self._ready = None

        self._executor.submit(leave)
        self._executor.shutdown(wait=True)


def _settle(answer: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if answer.done():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


def remove_parents(parents: tuple[Path, Path] | None) -> None:
    """Remove this platform's cgroup parents (at shutdown; empty by then)."""
    for parent in parents or ():
        with contextlib.suppress(OSError):
            parent.rmdir()


__all__ = ["MAX_TASKS", "Cgroup", "Spawner", "probe_cgroups", "remove_parents"]
