"""The platform process: wiring of its parts, its HTTP listener and its lifecycle.

``Platform`` owns one asyncio loop's worth of state: the store, the engine, the Function
URL listeners and the asynchronous queue. ``serve()`` runs it until cancelled (the CLI's
``strum platform run``); tests start it on an ephemeral loopback port.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from strum.platform.home import Home

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Settings:
    """How one platform runs. Defaults suit one developer machine."""

    host: str = "127.0.0.1"
    port: int = 8700
    # Scale to zero: an instance idle this long is stopped.
    idle_timeout_s: float = 300.0
    # Platform-wide concurrency (AWS's account limit): beyond it, 429.
    max_concurrency: int = 64
    # Required to bind anything but loopback: clients send "Authorization: Bearer <token>".
    auth_token: str | None = None
    # Multiplies async retry delays (1.0 = AWS's minutes); tests shrink it.
    retry_delay_scale: float = 1.0
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # SigV4 keys (access key id, secret) that AWS_IAM Function URLs verify signatures
    # against; with none issued, a well-formed, current signature is required but not checked.
    access_keys: tuple[tuple[str, str], ...] = ()
    # Run each instance in a sandbox (namespaces, cgroups) where the machine allows it.
    sandbox: bool = True


class Platform:
    """One running platform: store, engine, Function URLs, the async queue and schedules."""

    def __init__(self, home: Home, settings: Settings) -> None:
        from strum.platform.asyncq import AsyncQueue
        from strum.platform.engine import Engine
        from strum.platform.scheduler import Scheduler
        from strum.platform.store import Store
        from strum.platform.urls import FunctionUrls

        self.home = home.ensure()
        self.settings = settings
        self.store = Store(home, region=settings.region, account_id=settings.account_id)
        self.engine = Engine(home, settings)
        self.urls = FunctionUrls(self)
        self.asyncq = AsyncQueue(self)
        self.scheduler = Scheduler(self)
        self.started_at = time.time()
        self._runner: web.AppRunner | None = None
        self.port = settings.port

    def application(self) -> web.Application:
        """The aiohttp application serving the control and Invoke APIs."""
        from strum.platform import asyncapi, control, invoke, scheduler

        app = web.Application(client_max_size=70 * 1024 * 1024, middlewares=self._middlewares())
        control.add_routes(app, self)
        invoke.add_routes(app, self)
        scheduler.add_routes(app, self)
        asyncapi.add_routes(app, self)
        app.router.add_get("/strum/v1/health", self._health)
        app.router.add_get("/strum/v1/status", self._status)
        app.router.add_get("/strum/v1/logs", self._logs)
        return app

    async def _logs(self, request: web.Request) -> web.Response:
        """Log entries of one function: ``?function=NAME[&since=EPOCH][&limit=N]``."""
        name = request.query.get("function")
        if not name:
            return web.json_response(
                {"Type": "User", "message": "give ?function=NAME"},
                status=400,
                headers={"x-amzn-ErrorType": "InvalidParameterValueException"},
            )
        try:
            since = float(request.query["since"]) if "since" in request.query else None
            limit = min(int(request.query.get("limit", "1000")), 10000)
        except ValueError:
            return web.json_response(
                {"Type": "User", "message": "since must be epoch seconds and limit a number"},
                status=400,
                headers={"x-amzn-ErrorType": "InvalidParameterValueException"},
            )
        entries = self.engine.logs.query(name, since=since, limit=limit)
        return web.json_response({"entries": entries})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "pid": os.getpid()})

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "endpoint": self.endpoint,
                "pid": os.getpid(),
                "home": str(self.home.root),
                "started_at": self.started_at,
                "engine": self.engine.status(),
            }
        )

    def _middlewares(self) -> list[Middleware]:
        token = self.settings.auth_token
        if not token:
            return []

        @web.middleware
        async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path != "/strum/v1/health" and not hmac.compare_digest(
                request.headers.get("Authorization", ""), f"Bearer {token}"
            ):
                return web.json_response(
                    {"Type": "User", "message": "missing or wrong bearer token"},
                    status=403,
                    headers={"x-amzn-ErrorType": "AccessDeniedException"},
                )
            return await handler(request)

        return [require_token]

    async def start(self) -> None:
        """Open the store, start the engine, bind the API, restore URLs and the queue."""
        if self.settings.host not in LOOPBACK and not self.settings.auth_token:
            raise PermissionError(
                f"refusing to listen on {self.settings.host}: binding beyond loopback needs "
                "authentication; set a token with --token (or STRUM_PLATFORM_TOKEN)"
            )
        await self.engine.start()
        self.engine.runtime_api.self_invoke = self._invoke_self
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        await self.urls.start()
        await self.asyncq.start()
        await self.scheduler.start()
        self._write_address()
        logger.info("strum platform listening on %s", self.endpoint)

    async def _invoke_self(self, name: str, qualifier: str, payload: bytes) -> str:
        """An instance's asynchronous invocation of its own function (``@task``)."""
        from strum.platform.invoke import invoke_function

        result = await invoke_function(self, name, qualifier, payload, invocation_type="Event")
        return result.request_id

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
    import asyncio

    platform = Platform(home, settings)
    await platform.start()
    try:
        await asyncio.Event().wait()
    finally:
        await platform.stop()
