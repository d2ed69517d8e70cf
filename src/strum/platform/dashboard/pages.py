"""The dashboard's routes: the sign-in page, the pages, their JSON and live log stream.

Every route but the sign-in page is a ``by_cookie`` row of ``api.access.OPERATIONS``: by the
time a handler runs, the access middleware has found the session's caller and authorised
the page's action; a POST has passed the CSRF check too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from strum.platform.api.access import DASHBOARD_SIGN_IN
from strum.platform.dashboard.render import render
from strum.platform.dashboard.sessions import SESSION, SignIns, check_same_origin
from strum.platform.dashboard.views import (
    exists,
    function_detail,
    function_rows,
    log_row,
    schedule_row,
)
from strum.platform.engine.logs import LogStore
from strum.platform.errors import AccessDenied
from strum.platform.state import AuditEntry, AuditLog, InvocationMetrics, Store

__all__ = ["Dashboard"]

_STATIC = Path(__file__).resolve().parent / "static"
_STATIC_FILES = {
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "uPlot.LICENSE": "text/plain",
}
# How often a live log stream with nothing to say checks its browser is still there.
_HEARTBEAT_S = 15.0
RANGES = ((15, "15 min"), (60, "1 h"), (1440, "24 h"))
# Pages are private and change with every request: no cache may keep them.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


# The newest durable executions the async page lists (the API lists them all).
_EXECUTIONS_SHOWN = 100


class Dashboard:
    """The pages of one platform, reading its parts through what they expose."""

    def __init__(
        self,
        sign_ins: SignIns,
        store: Store,
        logs: LogStore,
        metrics: InvocationMetrics,
        *,
        url_for: Callable[[str], str | None],
        engine_status: Callable[[], dict[str, Any]],
        instance_details: Callable[[], list[dict[str, Any]]] = list,
        rules: Callable[[str | None], list[Any]],
        dead_letters: Any,
        audit: AuditLog | None = None,
        executions: Callable[[], list[Any]] = list,
    ) -> None:
        self.sign_ins = sign_ins
        self.store = store
        self.logs = logs
        self.metrics = metrics
        self.url_for = url_for
        self.engine_status = engine_status
        self.instance_details = instance_details
        self.rules = rules
        self.queue = dead_letters
        self.audit = audit
        self.executions = executions

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/strum", self.to_dashboard)
        app.router.add_get(DASHBOARD_SIGN_IN, self.sign_in_page)
        app.router.add_post(DASHBOARD_SIGN_IN, self.sign_in)
        app.router.add_post("/strum/sign-out", self.sign_out)
        app.router.add_get("/strum/", self.functions)
        app.router.add_get("/strum/functions/{function}", self.function)
        app.router.add_get("/strum/functions/{function}/metrics", self.function_metrics)
        app.router.add_get("/strum/functions/{function}/logs", self.function_logs)
        app.router.add_get("/strum/functions/{function}/logs/live", self.live_logs)
        app.router.add_get("/strum/instances", self.instances)
        app.router.add_get("/strum/async", self.async_page)
        app.router.add_post("/strum/functions/{function}/dead-letters/redrive", self.redrive)
        app.router.add_post("/strum/functions/{function}/dead-letters/discard", self.discard)
        app.router.add_get("/strum/static/{file}", self.static)

    # -- signing in ------------------------------------------------------------------------

    def _page(
        self, request: web.Request, template: str, status: int = 200, **context: Any
    ) -> web.Response:
        session = request.get(SESSION)
        page = render(
            template, signed_in=session is not None, csrf=session.csrf if session else "", **context
        )
        headers = {**_NO_STORE, "Content-Security-Policy": _CSP}
        return web.Response(status=status, text=page, content_type="text/html", headers=headers)

    async def to_dashboard(self, request: web.Request) -> web.Response:
        return web.Response(status=308, headers={"Location": "/strum/"})

    async def sign_in_page(self, request: web.Request) -> web.Response:
        return self._page(
            request, "sign_in.html", error=None, next=_next(request.query.get("next"))
        )

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        try:
            check_same_origin(request)
        except AccessDenied as exc:
            return self._page(request, "refused.html", status=403, message=exc.message)
        form = await request.post()
        key_id, secret = str(form.get("access_key_id") or ""), str(form.get("secret") or "")
        signed = self.sign_ins.sign_in(key_id, secret)
        self._record_sign_in(request, key_id, signed is not None)
        if signed is None:
            return self._page(
                request,
                "sign_in.html",
                status=401,
                error="That access key id and secret do not match an active key.",
                next=_next(str(form.get("next") or "")),
            )
        token, _session = signed
        response = web.Response(
            status=303, headers={"Location": _next(str(form.get("next") or ""))}
        )
        self.sign_ins.set_cookie(response, request, token)
        return response

    def _record_sign_in(self, request: web.Request, key_id: str, allowed: bool) -> None:
        """Every sign-in, good or bad, goes to the audit log (a guessed key shows there)."""
        if self.audit is None:
            return
        self.audit.record(
            AuditEntry(
                time=time.time(),
                principal="dashboard",
                access_key_id=key_id[:128],
                action="strum:SignInToDashboard",
                resource="*",
                decision="allowed" if allowed else "denied: InvalidCredentials",
                source=request.remote or "",
            )
        )

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        self.sign_ins.sign_out(request)
        response = web.Response(status=303, headers={"Location": DASHBOARD_SIGN_IN})
        response.del_cookie("strum_session", path="/strum/")
        return response

    # -- pages -----------------------------------------------------------------------------

    async def functions(self, request: web.Request) -> web.Response:
        return self._page(
            request, "functions.html", functions=function_rows(self.store, self.url_for)
        )

    async def function(self, request: web.Request) -> web.Response:
        name = request.match_info["function"]
        if not exists(self.store, name):
            return self._page(request, "refused.html", status=404, message=f"No function {name}")
        minutes = _minutes(request)
        detail = function_detail(self.store, self.url_for, self.rules(name), name)
        return self._page(request, "function.html", f=detail, ranges=RANGES, chosen=minutes)

    async def function_metrics(self, request: web.Request) -> web.Response:
        series = self.metrics.series(request.match_info["function"], _minutes(request))
        return web.json_response(series, headers=_NO_STORE)

    async def function_logs(self, request: web.Request) -> web.Response:
        name = request.match_info["function"]
        wanted = request.query.get("filter", "")
        entries = self.logs.query(name, time.time() - 3600, None, 500)
        rows = [log_row(e) for e in entries if wanted in str(e["message"])]
        return self._page(request, "logs.html", name=name, entries=rows, filter=wanted)

    async def live_logs(self, request: web.Request) -> web.StreamResponse:
        """New log lines as server-sent events, until the browser goes away."""
        name = request.match_info["function"]
        wanted = request.query.get("filter", "")
        response = web.StreamResponse(
            headers={**_NO_STORE, "Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        entries: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

        async def follow() -> None:
            async for entry in self.logs.follow(name):
                if wanted in str(entry["message"]) and not entries.full():
                    entries.put_nowait(entry)

        follower = asyncio.create_task(follow())
        try:
            while True:
                try:
                    entry = await asyncio.wait_for(entries.get(), _HEARTBEAT_S)
                except asyncio.TimeoutError:
                    # A comment line: finds a browser that went away, keeps proxies open.
                    await response.write(b": still here\n\n")
                    continue
                await response.write(f"data: {json.dumps(log_row(entry))}\n\n".encode())
        except ConnectionResetError:
            return response  # the browser left
        finally:
            follower.cancel()

    async def instances(self, request: web.Request) -> web.Response:
        status = dict(self.engine_status().get("instances") or {})
        isolation = status.pop("isolation", {}) or {}
        pairs = sorted(isolation.items()) if isinstance(isolation, dict) else [("", isolation)]
        return self._page(
            request, "instances.html", s=status, isolation=pairs, each=self.instance_details()
        )

    async def async_page(self, request: web.Request) -> web.Response:
        letters = self.queue.dead_letters()
        for letter in letters:
            payload = letter.get("payload") or b""
            text = (
                payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
            )
            letter["payload"] = text[:200] + ("…" if len(text) > 200 else "")
        return self._page(
            request,
            "async.html",
            letters=letters,
            queued=len(self.queue.pending()),
            schedules=[schedule_row(rule) for rule in self.rules(None)],
            executions=self.executions()[:_EXECUTIONS_SHOWN],
            message=request.query.get("done"),
        )

    async def redrive(self, request: web.Request) -> web.StreamResponse:
        name, ids = await _letters(request)
        moved = self.queue.redrive(name, ids)
        return _back(f"queued {len(moved)} dead letter(s) of {name} again")

    async def discard(self, request: web.Request) -> web.StreamResponse:
        name, ids = await _letters(request)
        count = self.queue.discard(name, ids)
        return _back(f"discarded {count} dead letter(s) of {name}")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["file"]
        kind = _STATIC_FILES.get(name)
        if kind is None:  # a fixed list: no path from the request ever reaches the disk
            raise web.HTTPNotFound()
        return web.Response(
            body=(_STATIC / name).read_bytes(),
            content_type=kind,
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )


async def _letters(request: web.Request) -> tuple[str, list[str]]:
    form = await request.post()
    ids = [str(value) for value in form.getall("request_id", [])]
    if not ids:
        raise web.HTTPBadRequest(text="name the dead letters to act on (request_id)")
    return request.match_info["function"], ids


def _back(message: str) -> web.Response:
    return web.Response(status=303, headers={"Location": "/strum/async?done=" + quote(message)})


def _minutes(request: web.Request) -> int:
    try:
        minutes = int(request.query.get("minutes", "60"))
    except ValueError:
        minutes = 60
    return minutes if minutes in {m for m, _ in RANGES} else 60


def _next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path only (no open redirect)."""
    if value and value.startswith("/strum/") and not value.startswith("//"):
        return value
    return "/strum/"
