"""Whether the platform can still start instances, and if not, why; and how many run.

Two signals, both about the platform rather than about any function: what instances need
on disk is still there (``Launcher.problems``: the home, the unpacked code, the runtime, the
sandbox's staged sources - a tmp cleaner or a stray ``rm -rf`` takes them), and whether the
last few starts failed for the platform's reasons: a process that could not be started at
all, or a runtime of strum's that died before it ever reached the Runtime API. A function
error - an import that fails, an init that times out, a crash reported through
``/init/error`` - is the function's, and counts as neither.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strum.platform.engine.instances import Instance, exit_description

__all__ = ["FAILED_STARTS", "StartRecord", "instance_counts", "instance_details"]

# This many consecutive starts failing for the platform's reasons make it unhealthy.
FAILED_STARTS = 3


@dataclass
class StartRecord:
    """Consecutive platform-caused start failures, since the last instance that started."""

    failures: int = 0
    last: list[str] = field(default_factory=list)

    def started(self) -> None:
        """An instance initialised (or reported its own init error): starts work."""
        self.failures = 0
        self.last.clear()

    def failed(self, reason: str) -> None:
        """A start failed for the platform's reason ``reason``."""
        self.failures += 1
        self.last = [*self.last[-(FAILED_STARTS - 1) :], reason]

    def ended(self, instance: Instance, status: int) -> None:
        """An instance's process ended with ``status``: was its start a failure, and whose?"""
        if instance.init_failed:
            self.started()  # its runtime ran, and reported the function's own init error
        elif (
            instance.init_ms is None
            and instance.kill_reason is None
            and instance.spec.runtime.startswith("python")
        ):
            # strum's runtime reports every failure of its own; dying before it ever
            # reached the Runtime API is the platform's (its interpreter, runtime or
            # sandbox could not run).
            self.failed(
                f"an instance of {instance.spec.name} exited ({exit_description(status)}) "
                "before its runtime started"
            )

    def report(self, problems: list[str]) -> dict[str, Any]:
        """``{"healthy", "reasons"}``: unhealthy with each missing piece, and with the
        last failures once there were ``FAILED_STARTS`` of them in a row."""
        reasons = list(problems)
        if self.failures >= FAILED_STARTS:
            reasons.append(
                f"the last {self.failures} instance starts failed for the platform's reasons; "
                f"the latest: {self.last[-1]}"
            )
        return {"healthy": not reasons, "reasons": reasons}


def instance_counts(instances: Iterable[Instance]) -> dict[str, Any]:
    """The live instances in all and per function and version: busy, idle, starting."""
    functions: dict[str, dict[str, dict[str, int]]] = {}
    totals = {"busy": 0, "idle": 0, "starting": 0}
    for instance in instances:
        if not instance.alive:
            continue
        counts = functions.setdefault(instance.spec.name, {}).setdefault(
            instance.spec.version, {"busy": 0, "idle": 0, "starting": 0}
        )
        state = _state(instance)
        counts[state] += 1
        totals[state] += 1
    return {"total": sum(totals.values()), **totals, "functions": functions}


def _state(instance: Instance) -> str:
    if instance.init_ms is None:
        return "starting"
    return "busy" if instance.invocation is not None else "idle"


def instance_details(instances: Iterable[Instance]) -> list[dict[str, Any]]:
    """Each live instance: its function and version, state, peak memory against its
    function's memory size, age, init duration, and whether it is provisioned."""
    now = time.perf_counter()
    rows = [
        {
            "function": instance.spec.name,
            "version": instance.spec.version,
            "state": _state(instance),
            "memory_mb": round(instance.max_memory_kb() / 1024, 1),
            "memory_size_mb": instance.spec.memory_mb,
            "age_s": round(now - instance.spawned_at, 1),
            "init_ms": None if instance.init_ms is None else round(instance.init_ms, 1),
            "provisioned": instance.provisioned,
        }
        for instance in instances
        if instance.alive
    ]
    return sorted(rows, key=lambda row: (row["function"], row["version"], -row["age_s"]))
