"""strum's own routes about the platform: ``/strum/v1/health``, ``/strum/v1/status`` (what
``strum platform status`` prints) and ``/strum/v1/logs`` (what ``strum tail`` reads).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from strum.platform.api._http import error_response
from strum.platform.engine import LogStore
from strum.platform.errors import InvalidParameterValue
from strum.platform.home import Home

__all__ = ["StatusRoutes", "add_routes"]


class StatusRoutes:
    """The handlers. ``engine_status`` is the engine's own report; ``endpoint`` the
    platform's address once it listens."""

    def __init__(
        self,
        home: Home,
        logs: LogStore,
        *,
        engine_status: Callable[[], dict[str, Any]],
        endpoint: Callable[[], str],
        health: Callable[[], dict[str, Any]] = lambda: {"healthy": True, "reasons": []},
        started_at: float | None = None,
        tls: dict[str, str] | None = None,
        region: str = "us-east-1",
        account: str = "000000000000",
    ) -> None:
        self.region = region
        self.account = account
        self.home = home
        self.tls = tls
        self.logs = logs
        self.engine_status = engine_status
        self.platform_health = health
        self.endpoint = endpoint
        self.started_at = time.time() if started_at is None else started_at

    async def logs_of(self, request: web.Request) -> web.Response:
        """Log entries of one function: ``?function=NAME[&since=EPOCH][&limit=N]``."""
        name = request.query.get("function")
        if not name:
            return error_response(InvalidParameterValue("give ?function=NAME"))
        try:
            since = float(request.query["since"]) if "since" in request.query else None
            limit = min(int(request.query.get("limit", "1000")), 10000)
        except ValueError:
            return error_response(
                InvalidParameterValue("since must be epoch seconds and limit a number")
            )
        entries = self.logs.query(name, since=since, limit=limit)
        return web.json_response({"entries": entries})

    async def health(self, request: web.Request) -> web.Response:
        """Answers as soon as the API listens (the CLI waits for it)."""
        return web.json_response({"ok": True, "pid": os.getpid()})

    async def status(self, request: web.Request) -> web.Response:
        """Where the platform listens, whose home it serves, the engine's report, and
        whether it can still start instances (``health``: healthy, and the reasons not)."""
        return web.json_response(
            {
                "endpoint": self.endpoint(),
                "pid": os.getpid(),
                "home": str(self.home.root),
                "started_at": self.started_at,
                "engine": self.engine_status(),
                "health": self.platform_health(),
                "tls": self.tls,
                "region": self.region,
                "account": self.account,
            }
        )


def add_routes(app: web.Application, routes: StatusRoutes) -> None:
    """Register ``/strum/v1/health``, ``/status`` and ``/logs`` on ``app``."""
    app.router.add_get("/strum/v1/health", routes.health)
    app.router.add_get("/strum/v1/status", routes.status)
    app.router.add_get("/strum/v1/logs", routes.logs_of)
