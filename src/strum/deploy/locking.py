"""One deploy of a stage at a time on a machine: a lock per function in ``$STRUM_HOME``.

Two ``strum deploy`` runs of one stage at once used to race (a half-written cache file, a
``CodeSha256`` that changed under the other's feet). The second now waits, saying so, for
the first to finish - then plans against what the first left, which is usually nothing to
do. The lock is an ``flock`` on ``locks/<function>.lock``: the kernel drops it when its
holder exits, however it exits, so a killed deploy never leaves the stage locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from strum.deploy.errors import DeployError

__all__ = ["stage_lock"]

# How long a second deploy waits for the first before giving up.
WAIT_S = 15 * 60


@contextmanager
def stage_lock(
    root: Path, function: str, notify: Callable[[str], None], *, wait_s: float = WAIT_S
) -> Iterator[None]:
    """Hold the deploy lock of ``function`` (under ``root``) for the ``with`` block."""
    folder = root / "locks"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(folder / f"{function}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    notify(f"another deploy of {function} is running; waiting for it to finish")
                    told = True
                if time.monotonic() > deadline:
                    raise DeployError(
                        f"another deploy of {function} has held it for over {wait_s:.0f} s; "
                        "let it finish (or stop it) and deploy again"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)
