"""The build cache (``$STRUM_HOME/cache``): what is in it, and pruning it safely.

Everything in it is derived and named by content, so any entry can go; a later build
makes it again. Its parts: ``layers/`` (dependency zips, the slow part to rebuild),
``packages/`` (code zips, and the app zips AWS deploys send), ``functions/`` (code and
dependencies merged, for the local platform) and ``pyc/`` (compiled modules by source).

Safety: every build and deploy holds the cache *shared* (``cache_in_use``: an ``flock`` on
``cache/.lock``) from its build until its zips are uploaded, and a build refreshes the
modification time of each entry it reuses. ``prune_cache`` holds the cache *exclusively*
while it deletes, so it never removes a file a concurrent build is using - it waits for
running builds, and builds starting meanwhile wait for it. ``--older-than`` goes by the
time an entry was last built or reused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CacheSummary", "cache_in_use", "cache_summary", "prune_cache", "touch"]

PARTS = {
    "layers": "dependency zips",
    "packages": "code zips",
    "functions": "code and dependencies merged for the local platform",
    "pyc": "compiled modules",
}
_LOCK = ".lock"


@dataclass(frozen=True)
class CacheSummary:
    """One part of the cache: how many files, their bytes, the oldest and newest use."""

    part: str
    description: str
    files: int
    size: int
    oldest: float | None
    newest: float | None


def _lock_file(cache_dir: Path) -> int:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return os.open(cache_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def cache_in_use(cache_dir: Path) -> Iterator[None]:
    """Hold the cache shared: no prune deletes anything while this runs."""
    import fcntl

    descriptor = _lock_file(cache_dir)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def touch(path: Path) -> None:
    """Mark a reused entry as used now (what ``--older-than`` goes by)."""
    with suppress(OSError):  # gone or read-only: it is rebuilt or kept, either is fine
        os.utime(path)


def _files(cache_dir: Path, part: str) -> Iterator[Path]:
    root = cache_dir / part
    if not root.is_dir():
        return
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name


def cache_summary(cache_dir: Path) -> list[CacheSummary]:
    """Each part of the cache, in ``PARTS`` order."""
    summaries = []
    for part, description in PARTS.items():
        count = size = 0
        oldest: float | None = None
        newest: float | None = None
        for path in _files(cache_dir, part):
            try:
                stat = path.stat()
            except OSError:
                continue
            count += 1
            size += stat.st_size
            oldest = stat.st_mtime if oldest is None else min(oldest, stat.st_mtime)
            newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
        summaries.append(CacheSummary(part, description, count, size, oldest, newest))
    return summaries


def prune_cache(
    cache_dir: Path,
    *,
    older_than: float | None,
    everything: bool = False,
    waiting: Callable[[], None] = lambda: None,
    now: float | None = None,
) -> tuple[int, int]:
    """Delete the entries last used ``older_than`` seconds ago or more (all with
    ``everything``), under the exclusive lock; ``waiting`` is called if builds hold it.
    Returns (files removed, bytes freed)."""
    import fcntl

    descriptor = _lock_file(cache_dir)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        cutoff = None if everything else (now or time.time()) - (older_than or 0)
        removed = freed = 0
        for part in PARTS:
            for path in list(_files(cache_dir, part)):
                try:
                    stat = path.stat()
                    if cutoff is not None and stat.st_mtime > cutoff:
                        continue
                    path.unlink()
                except OSError:
                    continue
                removed += 1
                freed += stat.st_size
            _remove_empty_folders(cache_dir / part)
        return removed, freed
    finally:
        os.close(descriptor)


def _remove_empty_folders(root: Path) -> None:
    if not root.is_dir():
        return
    for folder, _, _ in sorted(os.walk(root), key=lambda item: -len(item[0])):
        if Path(folder) != root:
            with suppress(OSError):  # not empty
                os.rmdir(folder)
