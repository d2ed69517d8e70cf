"""Provisioned concurrency, from configurations to instances: what each version needs.

A configuration names a version or an alias; an alias's count is shared among the versions
it routes to by their weights, and it follows the alias when the alias moves (a deploy).
``Provisioner.reconcile`` turns the stored configurations into exact versions and counts
for the engine's ``Provisioning``; it runs after every Put or Delete, at start (a restart
provisions again), and every second, which catches aliases that moved and versions that
went away. ``status`` renders a configuration's state in AWS's terms: ``IN_PROGRESS``
until every instance is initialised, then ``READY``; ``FAILED`` with ``StatusReason``
when an init failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from strum.platform.engine import Engine
from strum.platform.errors import ResourceNotFound
from strum.platform.spec import FunctionSpec
from strum.platform.state import ProvisionedConfigs, Store

__all__ = ["Provisioner"]

logger = logging.getLogger(__name__)

RECONCILE_EVERY_S = 1.0


class Provisioner:
    """Keeps the engine's provisioned instances what the configurations ask for."""

    def __init__(self, store: Store, configs: ProvisionedConfigs, engine: Engine) -> None:
        self._store = store
        self.configs = configs
        self._engine = engine
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Provision what the configurations ask for, then keep it so in the background."""
        self.reconcile()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def put(self, name: str, qualifier: str, requested: int) -> str:
        """Store a configuration (``ProvisionedConfigs.put``'s rules) and provision it; a
        put of a FAILED configuration tries again, as on AWS. Answers ``LastModified``."""
        stamp = self.configs.put(name, qualifier, requested)
        for version in self._shares(name, qualifier, requested):
            self._engine.provisioning.retry(name, version)
        self.reconcile()
        return stamp

    def reconcile(self) -> None:
        """Tell the engine the exact versions and counts the configurations ask for now."""
        wanted: dict[tuple[str, str], tuple[FunctionSpec, int]] = {}
        for name, qualifier, requested, _ in self.configs.list():
            try:
                shares = self._shares(name, qualifier, requested)
                for version, count in shares.items():
                    spec = self._store.version_spec(name, version)
                    _, before = wanted.get((name, version), (spec, 0))
                    wanted[(name, version)] = (spec, before + count)
            except ResourceNotFound:
                # Its alias or version was deleted: AWS deletes the configuration with it.
                logger.info("%s:%s is gone: dropping its provisioned concurrency", name, qualifier)
                self.configs.delete(name, qualifier)
        self._engine.provisioning.apply(wanted)

    def status(
        self, name: str, qualifier: str, requested: int, last_modified: str
    ) -> dict[str, Any]:
        """The configuration as Get/Put/ListProvisionedConcurrencyConfig(s) answer it."""
        allocated = available = 0
        failure = None
        try:
            shares = self._shares(name, qualifier, requested)
        except ResourceNotFound:
            shares = {}
        for version, count in shares.items():
            state = self._engine.provisioning.count(name, version)
            allocated += min(count, state.allocated)
            available += min(count, state.available)
            failure = failure or state.failure
        answer: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": available,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": "READY" if allocated >= requested else "IN_PROGRESS",
            "LastModified": last_modified,
        }
        if failure is not None and allocated < requested:
            answer["Status"] = "FAILED"
            answer["StatusReason"] = failure
        return answer

    def _shares(self, name: str, qualifier: str, requested: int) -> dict[str, int]:
        """How a configuration's count falls on versions (an alias: by its weights)."""
        if qualifier.isdigit():
            self._store.version_spec(name, qualifier)
            return {qualifier: requested}
        alias = self._store.invoked_alias(name, qualifier)
        shares: dict[str, int] = {}
        left = requested
        for version, weight in alias.weights.items():
            shares[version] = min(left, math.ceil(requested * weight))
            left -= shares[version]
        shares[alias.function_version] = shares.get(alias.function_version, 0) + left
        return {version: count for version, count in shares.items() if count > 0}

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_EVERY_S)
            try:
                self.reconcile()
            except Exception:
                logger.exception("provisioned concurrency could not be reconciled")
