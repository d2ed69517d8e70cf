"""Provisioned concurrency in the data plane: initialised instances kept warm per version.

``Provisioning.apply`` is told, for each exact version, how many instances to keep ready
(the control plane works that out from the configurations); it starts the missing ones in
the background, each one fully initialised before it counts, keeps them out of idle
reaping, replaces one that dies, and hands surplus ones back to the ordinary warm pool
(where the idle timer ends them). An instance that fails its init marks the version
FAILED with the reason, and no more are started for it until it is asked for again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from strum.platform.engine.instances import Instance
from strum.platform.engine.launch import InvalidEntrypoint
from strum.platform.spec import FunctionSpec

__all__ = ["ProvisionedCount", "Provisioning"]

logger = logging.getLogger(__name__)

# How long a provisioned instance may take to initialise (AWS allows more than the 10 s of
# an on-demand init for provisioned concurrency; this is the platform's bound).
INIT_DEADLINE_S = 120.0


class InstanceSource(Protocol):
    """The engine, as far as provisioning starts instances and hands them to its pools."""

    async def spawn(self, spec: FunctionSpec, *, provisioned: bool = False) -> Instance:
        """A new instance of ``spec``, its init under way."""
        ...

    def pool(self, instance: Instance) -> None:
        """Make a free instance available to invocations (again)."""


@dataclass(frozen=True)
class ProvisionedCount:
    """How one version's provisioned instances stand: ``allocated`` initialised and alive,
    ``available`` of them free right now, ``failure`` why they could not be (or None)."""

    allocated: int = 0
    available: int = 0
    failure: str | None = None


@dataclass(eq=False)
class _Target:
    spec: FunctionSpec
    count: int
    instances: set[Instance] = field(default_factory=set)
    starting: int = 0
    failure: str | None = None
    active: bool = True


class Provisioning:
    """The provisioned instances of one engine, by (function, version)."""

    def __init__(self, engine: InstanceSource) -> None:
        self._engine = engine
        self._targets: dict[tuple[str, str], _Target] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def apply(self, wanted: Mapping[tuple[str, str], tuple[FunctionSpec, int]]) -> None:
        """Keep exactly ``wanted`` - (name, version) -> (spec, count) - provisioned."""
        for key, held in list(self._targets.items()):
            spec_count = wanted.get(key)
            if spec_count is None or spec_count[0].instance_key != held.spec.instance_key:
                self._drop(key)
        for key, (spec, count) in wanted.items():
            target = self._targets.get(key)
            if target is None:
                target = self._targets[key] = _Target(spec, count)
            elif target.count != count:
                target.count = count
                target.failure = None  # asked again: try again
            self._trim(target)
            self._fill(target)

    def count(self, name: str, version: str) -> ProvisionedCount:
        """Where the provisioned instances of ``name`` at ``version`` stand."""
        target = self._targets.get((name, version))
        if target is None:
            return ProvisionedCount()
        live = [i for i in target.instances if i.alive]
        free = sum(1 for i in live if i.invocation is None)
        return ProvisionedCount(len(live), free, target.failure)

    def retry(self, name: str, version: str) -> None:
        """Clear a failure: the next ``apply`` starts instances of ``version`` again."""
        target = self._targets.get((name, version))
        if target is not None:
            target.failure = None

    def exited(self, instance: Instance) -> None:
        """An instance of ours ended (a crash, a timeout, its age): replace it."""
        for target in self._targets.values():
            if instance in target.instances:
                target.instances.discard(instance)
                if target.active:
                    self._fill(target)
                return

    def retire(self, name: str, version: str | None) -> None:
        """Forget the targets of ``name`` (one version, or all): its code or configuration
        changed, or it is gone. The control plane provisions the new spec again."""
        for key in [k for k in self._targets if k[0] == name and version in (None, k[1])]:
            target = self._targets.pop(key)
            target.active = False
            target.instances.clear()

    async def stop(self) -> None:
        """Stop starting instances (the engine stops the running ones)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for key in list(self._targets):
            self._targets.pop(key).active = False

    # -- inside ------------------------------------------------------------------------------

    def _drop(self, key: tuple[str, str]) -> None:
        target = self._targets.pop(key)
        target.active = False
        for instance in list(target.instances):
            self._release(target, instance)

    def _trim(self, target: _Target) -> None:
        surplus = len(target.instances) - target.count
        for instance in sorted(target.instances, key=lambda i: i.invocation is not None):
            if surplus <= 0:
                break
            self._release(target, instance)
            surplus -= 1

    def _release(self, target: _Target, instance: Instance) -> None:
        """Hand an instance back to the ordinary pool, where the idle timer ends it."""
        target.instances.discard(instance)
        instance.provisioned = False
        if instance.alive and instance.invocation is None:
            self._engine.pool(instance)

    def _fill(self, target: _Target) -> None:
        if target.failure is not None:
            return
        for _ in range(target.count - len(target.instances) - target.starting):
            target.starting += 1
            task = asyncio.get_running_loop().create_task(self._start(target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start(self, target: _Target) -> None:
        spec = target.spec
        try:
            instance = await self._engine.spawn(spec, provisioned=True)
        except InvalidEntrypoint as exc:
            target.starting -= 1
            target.failure = f"Runtime.InvalidEntrypoint: {exc}"
            logger.warning(
                "provisioned concurrency of %s:%s failed: %s", spec.name, spec.version, exc
            )
            return
        instance.provisioned = True
        # AWS's REPORT lines of provisioned instances carry no Init Duration: the init
        # happened before any request.
        instance.init_reported = True
        try:
            ending: list[asyncio.Future[Any]] = [instance.initialised, instance.exited]
            await asyncio.wait(
                ending,
                timeout=INIT_DEADLINE_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            target.starting -= 1
        if not instance.initialised.done() or not instance.alive:
            reason = _init_failure(instance)
            instance.provisioned = False
            instance.kill("init failed")
            if target.active:
                target.failure = reason
                logger.warning(
                    "provisioned concurrency of %s:%s failed: %s", spec.name, spec.version, reason
                )
            return
        if not target.active or len(target.instances) >= target.count:
            instance.provisioned = False
            self._engine.pool(instance)
            return
        target.instances.add(instance)
        self._engine.pool(instance)


def _init_failure(instance: Instance) -> str:
    """``StatusReason`` for an instance that did not initialise."""
    if instance.init_error:
        try:
            document = json.loads(instance.init_error)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return (
                "The function could not be initialised: "
                f"{document.get('errorType', 'Runtime.Unknown')}: {document.get('errorMessage', '')}"
            )
    if instance.exited.done():
        return f"The function could not be initialised: its runtime exited ({instance.exited.result()})"
    return f"The function did not finish initialising within {INIT_DEADLINE_S:.0f} seconds"
