"""Running an ASGI app (HTTP and lifespan protocols) for Lambda.

Imported only for ASGI apps: it needs ``asyncio``, whose import alone costs more than the
rest of the adapter. One event loop lives as long as the handler, so the lifespan task
started during the init phase stays alive between invocations and each request pays for
``run_until_complete``, not for building a loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from strum.adapter._request import HttpRequest, client_address, header_error, server_address
from strum.adapter.sources._common import quote_path
from strum.errors import AppError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_LIFESPAN_TIMEOUT = 30.0


def build_scope(request: HttpRequest, state: dict[str, Any] | None) -> dict[str, Any]:
    """The ASGI HTTP connection scope for ``request``.

    ``path`` includes ``root_path``, as uvicorn does and as current Starlette and Django
    expect; ``raw_path`` is the full path as the gateway received it (re-encoded where the
    gateway decoded it). Repeated headers stay separate entries, as ASGI allows.
    """
    root_path = request.root_path
    path = root_path + request.path if root_path else request.path
    raw_path = request.raw_path
    try:
        header_list, noted = _header_list(request.headers, request.multi_headers, request.cookies)
    except (AttributeError, TypeError):
        raise header_error(request.headers, request.multi_headers) from None
    host = noted.get("host")
    proto = noted.get("x-forwarded-proto")
    port = noted.get("x-forwarded-port")
    forwarded_for = noted.get("x-forwarded-for")
    scheme, server_name, server_port = server_address(host, proto, port, request.default_host)
    client = client_address(request.source_ip, forwarded_for)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": scheme,
        "path": path,
        "raw_path": (raw_path or quote_path(path)).encode("utf-8"),
        "root_path": root_path,
        "query_string": request.query_string.encode("utf-8"),
        "headers": header_list,
        "client": (client, 0) if client else None,
        "server": (server_name, server_port),
        "aws.event": request.event,
        "aws.context": request.context,
    }
    if state is not None:
        scope["state"] = state.copy()
    return scope


# Header names whose values the scope's scheme, server and client come from.
_NOTED = frozenset({"host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-for", "cookie"})
# (lower-case name, its bytes, whether it is in _NOTED) per name as the gateway spelled it;
# bounded, because names come from clients.
_NAMES: dict[str, tuple[str, bytes, bool]] = {}
_NAMES_MAX = 1024


def _header_name(name: str) -> tuple[str, bytes, bool]:
    lower = name.lower()
    entry = (lower, lower.encode("latin-1"), lower in _NOTED)
    if len(_NAMES) < _NAMES_MAX:
        _NAMES[name] = entry
    return entry


def _header_list(
    headers: dict[str, str] | None,
    multi: dict[str, list[str]] | None,
    cookies: list[str] | None,
) -> tuple[list[tuple[bytes, bytes]], dict[str, str]]:
    """ASGI header pairs, plus the values of the _NOTED headers by lower-case name."""
    # Hot loop, like the WSGI one: wrong value types fail with AttributeError/TypeError
    # and build_scope explains them.
    names = _NAMES
    pairs: list[tuple[bytes, bytes]] = []
    append = pairs.append
    noted: dict[str, str] = {}
    if headers:
        for name, value in headers.items():
            lower, encoded, is_noted = names.get(name) or _header_name(name)
            if is_noted:
                if lower == "cookie" and cookies:
                    continue  # the cookies list (payload 2.0) is the truth
                noted[lower] = value
            append((encoded, value.encode()))
    if multi:
        for name, values in multi.items():
            if type(values) is not list:
                raise TypeError(name)
            lower, encoded, is_noted = names.get(name) or _header_name(name)
            if is_noted:
                if lower == "cookie" and len(values) > 1:
                    # One Cookie header, as HTTP/1.1 sends it: frameworks read only the first.
                    values = ["; ".join(values)]
                noted[lower] = values[-1]
            for value in values:
                append((encoded, value.encode()))
    if cookies:
        append((b"cookie", "; ".join(cookies).encode()))
    return pairs, noted


class HttpCycle:
    """One request/response exchange: feeds the body in, collects the response out.

    After the body has been read, ``receive`` blocks until the response is complete and then
    reports ``http.disconnect`` - apps (Starlette's streaming responses among them) listen
    for a disconnect while they send, and must not see one early.
    """

    __slots__ = (
        "changed",
        "chunks",
        "complete",
        "consumed",
        "headers",
        "loop",
        "request_body",
        "status",
        "waiter",
    )

    def __init__(self, body: bytes, loop: asyncio.AbstractEventLoop) -> None:
        self.request_body: bytes | None = body
        self.loop = loop
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.complete = False
        self.waiter: asyncio.Future[None] | None = None
        # Streaming only: ``send`` sets ``changed`` so the reader wakes for each chunk, then
        # waits on ``consumed`` - backpressure, as a real server awaits its socket draining,
        # so the app never runs ahead of the client and buffers stay one chunk deep.
        self.changed: asyncio.Event | None = None
        self.consumed: asyncio.Event | None = None

    async def receive(self) -> Message:
        body = self.request_body
        if body is not None:
            self.request_body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.complete:
            self.waiter = self.loop.create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status:
                raise RuntimeError("the ASGI app sent http.response.start twice")
            self.status = message["status"]
            self.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers") or ()
            ]
        elif kind == "http.response.body":
            if not self.status:
                raise RuntimeError("the ASGI app sent a body before http.response.start")
            if self.complete:
                return  # ASGI: messages after the response is complete are ignored
            body = message.get("body", b"")
            if body:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self.complete = True
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(None)
        if self.changed is not None and self.consumed is not None:
            self.consumed.clear()
            self.changed.set()
            if not self.complete:
                await self.consumed.wait()


class Lifespan:
    """The ASGI lifespan protocol: startup once per process, shutdown at exit.

    ``mode`` is "auto" (use it when the app supports it) or "on" (the app must support it).
    ``state`` is the dict the app may fill during startup; request scopes get a shallow copy.
    """

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop, mode: str) -> None:
        self.app = app
        self.loop = loop
        self.mode = mode
        self.state: dict[str, Any] = {}
        self.supported = False
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outcome: asyncio.Future[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:  # reported through _await_outcome, never lost
            self._error = exc
        finally:
            if self._outcome is not None and not self._outcome.done():
                self._outcome.set_result({"type": "lifespan.ended"})

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(message)

    def _exchange(self, message_type: str) -> Message:
        self._outcome = self.loop.create_future()
        self._inbox.put_nowait({"type": message_type})
        return self.loop.run_until_complete(
            asyncio.wait_for(asyncio.shield(self._outcome), _LIFESPAN_TIMEOUT)
        )

    def startup(self) -> None:
        """Run the app's startup; raise ``AppError`` if it fails (or is missing in "on")."""
        self._task = self.loop.create_task(self._main())
        try:
            reply = self._exchange("lifespan.startup")
        except asyncio.TimeoutError:
            raise AppError(
                f"the ASGI app's lifespan startup did not finish within {_LIFESPAN_TIMEOUT:.0f} s"
            ) from None
        kind = reply["type"]
        if kind == "lifespan.startup.complete":
            self.supported = True
            return
        if kind == "lifespan.startup.failed":
            raise AppError(f"the ASGI app's lifespan startup failed: {reply.get('message', '')}")
        # The app returned or raised without answering: it does not speak lifespan.
        if self.mode == "on":
            detail = f" (it raised {self._error!r})" if self._error else ""
            raise AppError(
                "lifespan='on' but the app does not support the ASGI lifespan protocol"
                f"{detail}; use lifespan='auto' or 'off'"
            ) from self._error

    def abandon(self) -> None:
        """Cancel the lifespan task after a failed startup, so the loop can close cleanly."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            self.loop.run_until_complete(asyncio.gather(task, return_exceptions=True))

    def shutdown(self) -> None:
        """Run the app's shutdown if startup succeeded; errors are reported, not raised."""
        if not self.supported or self._task is None or self._task.done():
            return
        self.supported = False
        try:
            reply = self._exchange("lifespan.shutdown")
        except asyncio.TimeoutError:
            reply = {"type": "lifespan.shutdown.failed", "message": "timed out"}
        if reply["type"] == "lifespan.shutdown.failed":
            import logging

            logging.getLogger(__name__).error(
                "ASGI lifespan shutdown failed: %s", reply.get("message", "")
            )


class ASGIRunner:
    """Runs an ASGI app on one long-lived event loop, lifespan included."""

    def __init__(self, app: ASGIApp, lifespan: str) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.lifespan: Lifespan | None = None
        if lifespan != "off":
            self.lifespan = Lifespan(app, self.loop, lifespan)
            try:
                self.lifespan.startup()
            except BaseException:
                self.lifespan.abandon()
                self.loop.close()
                raise

    def __call__(self, request: HttpRequest) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Run one request; return ``(status, reason, headers, body)``."""
        lifespan = self.lifespan
        state = lifespan.state if lifespan is not None and lifespan.supported else None
        cycle = HttpCycle(request.body, self.loop)
        try:
            self.loop.run_until_complete(
                self.app(build_scope(request, state), cycle.receive, cycle.send)
            )
        except Exception:
            if not cycle.complete:
                raise
            _log_late_error(request)
        if not cycle.complete:
            raise RuntimeError("the ASGI app returned without completing its response")
        return cycle.status, "", cycle.headers, b"".join(cycle.chunks)

    def stream(
        self, request: HttpRequest
    ) -> tuple[int, str, list[tuple[str, str]], Iterator[bytes]]:
        """Start one request; return status and headers with the body yet to arrive.

        The app runs as a task on the handler's loop; the returned iterator drives the loop
        until the next ``http.response.body`` message, so chunks leave as the app sends them
        (``more_body``) instead of after it finishes.
        """
        lifespan = self.lifespan
        state = lifespan.state if lifespan is not None and lifespan.supported else None
        loop = self.loop
        cycle = HttpCycle(request.body, loop)
        changed = cycle.changed = asyncio.Event()
        consumed = cycle.consumed = asyncio.Event()
        app_call = self.app(build_scope(request, state), cycle.receive, cycle.send)
        task: asyncio.Future[None] = asyncio.ensure_future(app_call, loop=loop)

        def advance() -> None:
            """Run the loop until the app sends something or ends."""
            changed.clear()
            waiter = loop.create_task(changed.wait())
            either: set[asyncio.Future[Any]] = {task, waiter}
            loop.run_until_complete(asyncio.wait(either, return_when="FIRST_COMPLETED"))
            if not waiter.done():
                waiter.cancel()
                loop.run_until_complete(asyncio.gather(waiter, return_exceptions=True))

        def check_alive() -> None:
            # Only once everything the app sent has been delivered: a chunk sent just
            # before a crash still reaches the client, then the error follows.
            if task.done():
                task.result()  # re-raises the app's exception, if any
                raise RuntimeError("the ASGI app returned without completing its response")

        while not cycle.status:
            check_alive()
            advance()

        def body() -> Iterator[bytes]:
            try:
                while True:
                    while cycle.chunks:
                        yield cycle.chunks.pop(0)
                    if cycle.complete:
                        break
                    check_alive()
                    consumed.set()
                    advance()
                try:
                    loop.run_until_complete(task)
                except Exception:
                    _log_late_error(request)
            finally:
                if not task.done():
                    task.cancel()
                    loop.run_until_complete(asyncio.gather(task, return_exceptions=True))

        return cycle.status, "", cycle.headers, body()

    def close(self) -> None:
        """Run lifespan shutdown and close the loop; safe to call more than once."""
        if self.loop.is_closed():
            return
        if self.lifespan is not None:
            self.lifespan.shutdown()
        self.loop.close()


def _log_late_error(request: HttpRequest) -> None:
    # Starlette's error middleware sends its 500 page and then re-raises: the response
    # stands, the exception only needs logging.
    import logging

    logging.getLogger("strum.adapter").exception(
        "the ASGI app raised after completing its response to %s %s", request.method, request.path
    )
