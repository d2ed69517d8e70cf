"""The platform process: wiring of its parts, its HTTP listener and its lifecycle.

``Platform`` builds each part once, with exactly the collaborators it uses, from the
bottom up: the store, the engine, the async queue, the invoker on top of those, the
schedules and the Function URL listeners on top of the invoker, then the API routes.
Two parts call back into the invoker that is built on them - the engine (an instance's
``@task`` self-invocation) and the queue (its deliveries) - and get it when they start.
Functions learn the platform's own address (``STRUM_PLATFORM_API``) by asking ``endpoint``
when their first instance starts, by which time the API listens.

``serve()`` runs a platform until cancelled (the CLI's ``strum platform run``); tests
start one on an ephemeral loopback port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path

from aiohttp import web

from strum.platform import api
from strum.platform.engine import Engine
from strum.platform.home import Home
from strum.platform.invoke import AsyncQueue, Invoker, Scheduler
from strum.platform.settings import LOOPBACK, Settings
from strum.platform.state import Store
from strum.platform.urls import FunctionUrls

__all__ = ["Platform", "serve"]

logger = logging.getLogger(__name__)

# Deployment packages travel in CreateFunction / UpdateFunctionCode bodies (base64).
_MAX_REQUEST_BYTES = 70 * 1024 * 1024


class Platform:
    """One running platform: store, engine, Function URLs, the async queue and schedules."""

    def __init__(self, home: Home, settings: Settings) -> None:
        self.home = home.ensure()
        self.settings = settings
        self.started_at = time.time()
        self.port = settings.port
        self.store = Store(home, region=settings.region, account_id=settings.account_id)
        self.engine = Engine(home, settings, api_endpoint=lambda: self.endpoint)
        self.asyncq = AsyncQueue(home.queue_db, self.store, settings)
        self.invoker = Invoker(self.store, self.engine, self.asyncq)
        self.scheduler = Scheduler(home.root / "schedules.db", settings, self.invoker)
        self.urls = FunctionUrls(self.store, settings, self.invoker)
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        """The aiohttp application serving the control and Invoke APIs."""
        app = web.Application(
            client_max_size=_MAX_REQUEST_BYTES,
            middlewares=api.token_middleware(self.settings.auth_token),
        )
        api.functions.add_routes(
            app,
            self.store,
            self.settings,
            instances=self.engine,
            urls=self.urls,
            scheduler=self.scheduler,
            endpoint=lambda: self.endpoint,
        )
        api.invoke.add_routes(app, self.invoker)
        api.schedules.add_routes(app, self.store, self.scheduler)
        api.async_config.add_routes(app, self.store, self.asyncq)
        status = api.StatusRoutes(
            self.home,
            self.engine.logs,
            engine_status=self.engine.status,
            endpoint=lambda: self.endpoint,
            started_at=self.started_at,
        )
        api.status.add_routes(app, status)
        return app

    async def start(self) -> None:
        """Open the store, start the engine, bind the API, restore URLs and the queue."""
        if self.settings.host not in LOOPBACK and not self.settings.auth_token:
            raise PermissionError(
                f"refusing to listen on {self.settings.host}: binding beyond loopback needs "
                "authentication; set a token with --token (or STRUM_PLATFORM_TOKEN)"
            )
        await self.engine.start(self_invoke=api.self_invoke_route(self.invoker))
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        await self.urls.start()
        await self.asyncq.start(self.invoker)
        await self.scheduler.start()
        self._write_address()
        logger.info("strum platform listening on %s", self.endpoint)

    async def stop(self) -> None:
        """Stop taking work, stop every instance, close listeners and the store."""
        await self.scheduler.stop()
        await self.asyncq.stop()
        await self.urls.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.engine.stop()
        self.store.close()
        for path in (self.home.address_file, self.home.pidfile):
            if path.exists() and _owned_by_us(path):
                path.unlink()

    @property
    def endpoint(self) -> str:
        """The API's address (``http://host:port``), the bound port once listening."""
        host = self.settings.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def _write_address(self) -> None:
        record = {"endpoint": self.endpoint, "pid": os.getpid(), "started_at": self.started_at}
        temporary = self.home.address_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(self.home.address_file)
        self.home.pidfile.write_text(str(os.getpid()))


def _owned_by_us(path: os.PathLike[str]) -> bool:
    try:
        text = Path(path).read_text()
    except OSError:
        return False
    return str(os.getpid()) in text


async def serve(home: Home, settings: Settings) -> None:
    """Run a platform until the task is cancelled (SIGINT/SIGTERM in the CLI)."""
    platform = Platform(home, settings)
    await platform.start()
    try:
        await asyncio.Event().wait()
    finally:
        await platform.stop()
