"""The Lambda Runtime API (``/2018-06-01/runtime/...``), served to the function processes.

Every instance gets a listener of its own on 127.0.0.1 (``AWS_LAMBDA_RUNTIME_API`` is
``host:port`` with no room for a path, so the address is what identifies the instance);
all listeners share one low-level aiohttp server. One listener is always bound ahead of
need, so a cold start does not wait for ``bind``/``listen``. An instance without network
gets its listener bound inside a network namespace of its own (``listen_isolated``); its
port comes from a range the kernel never hands out to ``bind(0)``, so ports stay unique.

The same listener also answers one call of the Invoke API - an asynchronous invocation
of the instance's own function (``@task``'s ``.delay()``) - since an instance without
network cannot reach the platform's API, and should not reach more of it than that.

Response streaming ends a chunked body with trailers (``Lambda-Runtime-Function-Error-
Type`` / ``-Body``) when the function fails mid-stream. aiohttp parses trailers but does
not expose them, so this server's connections use aiohttp's own pure-Python request
parser with a headers parser that remembers what it parsed last: after a chunked body
ends, that is the trailer section. The HTTP parsing itself stays aiohttp's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HeadersParser, HttpRequestParserPy
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from strum.platform import sandbox
from strum.platform.engine.instances import Instance, Invocation, Outcome
from strum.platform.spec import FunctionSpec

logger = logging.getLogger(__name__)

PREFIX = "/2018-06-01/runtime"
_NEXT = PREFIX + "/invocation/next"
_INIT_ERROR = PREFIX + "/init/error"
# SnapStart's: an after-restore hook failed in an instance forked from a template.
_RESTORE_ERROR = PREFIX + "/restore/error"
_INVOCATION = PREFIX + "/invocation/"
_INVOKE = "/2015-03-31/functions/"
# The durable-execution SDK's checkpoints, answered by the API layer like Invoke.
_DURABLE = "/2025-12-01/durable-executions/"
# Ports of listeners inside namespaces: below Linux's ephemeral range (32768-60999), so a
# host listener bound to port 0 never shares a number with one of them.
_ISOLATED_PORTS = range(10000, 32000)
# Answers an instance's Invoke API call (``@task``): its spec and the request as sent.
SelfInvoke = Callable[[FunctionSpec, web.BaseRequest], Awaitable[web.StreamResponse]]
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode"
# AWS's limits: 6 MB buffered (the exact number its error quotes), 20 MB streamed.
MAX_RESPONSE = 6_291_556
MAX_STREAMED = 20 * 1024 * 1024
_TOO_LARGE = (
    b'{"errorMessage":"Response payload size exceeded maximum allowed payload size '
    b'(6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}'
)


class _RecordingHeadersParser(HeadersParser):
    last: Any = None

    def parse_headers(self, lines: list[bytes]) -> Any:
        result = super().parse_headers(lines)
        self.last = result[0]
        return result


class _Connection(RequestHandler):
    """aiohttp's request handler with a parser whose last parsed headers we can read."""

    def __init__(self, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        parser = HttpRequestParserPy(
            self,
            kwargs["loop"],
            self._read_bufsize,
            max_line_size=self.max_line_size,
            max_field_size=self.max_field_size,
            max_headers=self.max_headers,
            payload_exception=RequestPayloadError,
        )
        self.headers_parser = _RecordingHeadersParser(
            self.max_line_size, self.max_headers, self.max_field_size
        )
        parser._headers_parser = self.headers_parser
        self._parser = parser


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


def _reply(status: int, body: bytes = b'{"status":"OK"}') -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


class RuntimeAPI:
    """The listeners and request handling of the Runtime API for all instances."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._instances: dict[int, Instance] = {}
        self._runner: web.ServerRunner | None = None
        self._spare: asyncio.Task[tuple[web.TCPSite, int]] | None = None
        self._spare_isolated: asyncio.Task[tuple[web.BaseSite, int, int]] | None = None
        self._ports = itertools.cycle(_ISOLATED_PORTS)
        self.closing: set[asyncio.Task[None]] = set()  # listeners being closed
        self._self_invoke: SelfInvoke | None = None

    async def start(self, self_invoke: SelfInvoke | None = None) -> None:
        """Serve; ``self_invoke`` answers instances' own Invoke calls (none: 503)."""
        self._self_invoke = self_invoke
        server = _Server(self._handle, handler_cancellation=False, access_log=None)
        self._runner = web.ServerRunner(server, handle_signals=False)
        await self._runner.setup()
        self._spare = asyncio.ensure_future(self._bind())

    async def stop(self) -> None:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            site, _ = await spare
            await site.stop()
        if self._spare_isolated is not None:
            isolated, self._spare_isolated = self._spare_isolated, None
            with contextlib.suppress(OSError):
                isolated_site, _, namespace = await isolated
                await isolated_site.stop()
                os.close(namespace)
        if self.closing:
            await asyncio.wait(self.closing)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def listen(self) -> Listener:
        """A bound listener for a new instance (the spare; a new spare is bound behind it)."""
        assert self._spare is not None, "RuntimeAPI.start() first"
        # Swap the spare before awaiting it: concurrent cold starts must not share one.
        spare, self._spare = self._spare, asyncio.ensure_future(self._bind())
        site, port = await spare
        return Listener(self, site, port)

    async def listen_isolated(self) -> Listener:
        """A listener bound inside a new network namespace; ``listener.namespace`` is that
        namespace, for the spawn to enter (then ``release_namespace()``)."""
        spare = self._spare_isolated or asyncio.ensure_future(self._bind_isolated())
        self._spare_isolated = asyncio.ensure_future(self._bind_isolated())
        site, port, namespace = await spare
        return Listener(self, site, port, namespace)

    async def _bind_isolated(self) -> tuple[web.BaseSite, int, int]:
        assert self._runner is not None
        port = next(self._ports)
        while port in self._instances:
            port = next(self._ports)
        namespace, sock = await asyncio.to_thread(sandbox.new_network, port)
        site = web.SockSite(self._runner, sock)
        await site.start()
        return site, port, namespace

    async def _bind(self) -> tuple[web.TCPSite, int]:
        assert self._runner is not None
        site = web.TCPSite(self._runner, self.host, 0, backlog=16)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        return site, server.sockets[0].getsockname()[1]

    # -- requests --------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        transport = request.transport
        instance = None
        if transport is not None:
            instance = self._instances.get(transport.get_extra_info("sockname")[1])
        if instance is None:
            return _reply(410, b'{"errorMessage":"this instance is gone"}')
        path = request.path
        method = request.method
        if (path.startswith(_INVOKE) and method == "POST") or path.startswith(_DURABLE):
            return await self._invoke_self(instance, request)
        if path == _NEXT and method == "GET":
            return await self._next(instance)
        if method == "POST":
            if path.startswith(_INVOCATION):
                request_id, _, action = path[len(_INVOCATION) :].partition("/")
                if action == "response":
                    return await self._response(instance, request, request_id)
                if action == "error":
                    return await self._error(instance, request, request_id)
            elif path == _INIT_ERROR:
                return await self._init_error(instance, request)
            elif path == _RESTORE_ERROR:
                return await self._restore_error(instance, request)
        return _reply(404, b'{"errorMessage":"unknown Runtime API path"}')

    async def _invoke_self(
        self, instance: Instance, request: web.BaseRequest
    ) -> web.StreamResponse:
        """``@task``'s ``.delay()`` from an instance, answered by the Invoke API's layer."""
        if self._self_invoke is None:
            return _reply(503, b'{"errorMessage":"the platform is not serving invocations"}')
        return await self._self_invoke(instance.spec, request)

    async def _next(self, instance: Instance) -> web.StreamResponse:
        invocation = await instance.next_invocation()
        if invocation is None:
            return _reply(410, b'{"errorMessage":"shutting down"}')
        spec = instance.spec
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + invocation.timeout_s) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": spec.arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        return web.Response(body=invocation.payload, headers=headers)

    async def _response(
        self, instance: Instance, request: web.BaseRequest, request_id: str
    ) -> web.StreamResponse:
        invocation = instance.current(request_id)
        if invocation is None:
            return _invalid_id(request_id)
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        if request.headers.get(RESPONSE_MODE, "").lower() == "streaming":
            return await self._stream(instance, request, invocation, content_type)
        body = await _read_limited(request, MAX_RESPONSE)
        if body is None:
            instance.finish(invocation, Outcome(_TOO_LARGE, error_type="Unhandled"))
            return _reply(
                413, b'{"errorMessage":"response too large","errorType":"RequestEntityTooLarge"}'
            )
        instance.finish(invocation, Outcome(body, content_type))
        return _reply(202)

    async def _stream(
        self,
        instance: Instance,
        request: web.BaseRequest,
        invocation: Invocation,
        content_type: str,
    ) -> web.StreamResponse:
        if invocation.answering is not None and not invocation.answering.done():
            invocation.answering.set_result(
                {"Content-Type": content_type, RESPONSE_MODE: "streaming"}
            )
        chunks = invocation.chunks
        collected: list[bytes] = []
        size = 0
        try:
            async for chunk in request.content.iter_any():
                if invocation.finished:
                    return _reply(410, b'{"errorMessage":"invocation is over"}')
                size += len(chunk)
                if size > MAX_STREAMED:
                    instance.finish(
                        invocation,
                        _stream_error(
                            invocation,
                            "Function.ResponseSizeTooLarge",
                            b"Response payload size exceeded maximum allowed payload size (20971520 bytes).",
                        ),
                    )
                    return _reply(413, b'{"errorMessage":"streamed response too large"}')
                if chunks is not None:
                    chunks.put_nowait(chunk)
                else:
                    collected.append(chunk)
        except (HttpProcessingError, ConnectionError, RequestPayloadError) as exc:
            logger.debug("stream of %s broke: %s", invocation.request_id, exc)
            return _reply(400, b'{"errorMessage":"broken stream"}')
        connection = request.protocol
        trailers = getattr(getattr(connection, "headers_parser", None), "last", None) or {}
        error_type = trailers.get(ERROR_TYPE)
        if error_type:
            try:
                document = base64.b64decode(trailers.get(ERROR_BODY, ""), validate=True)
            except ValueError:
                document = b""
            instance.finish(invocation, _stream_error(invocation, error_type, document))
        else:
            body = b"".join(collected)
            instance.finish(invocation, Outcome(body, content_type, streamed=True))
        return _reply(202)

    async def _error(
        self, instance: Instance, request: web.BaseRequest, request_id: str
    ) -> web.StreamResponse:
        invocation = instance.current(request_id)
        if invocation is None:
            return _invalid_id(request_id)
        body = await _read_limited(request, MAX_RESPONSE) or b""
        error_type = request.headers.get(ERROR_TYPE) or "Unhandled"
        instance.finish(invocation, Outcome(body or b"{}", error_type=error_type))
        return _reply(202)

    async def _init_error(self, instance: Instance, request: web.BaseRequest) -> web.StreamResponse:
        body = await _read_limited(request, MAX_RESPONSE) or b""
        error_type = request.headers.get(ERROR_TYPE) or "Runtime.Unknown"
        instance.init_failed = True
        instance.init_error = body
        invocation = instance.invocation
        if invocation is not None:
            instance.finish(
                invocation, Outcome(body, error_type=error_type, fatal=True, status="error")
            )
        return _reply(202)

    async def _restore_error(
        self, instance: Instance, request: web.BaseRequest
    ) -> web.StreamResponse:
        body = await _read_limited(request, MAX_RESPONSE) or b""
        instance.init_failed = True
        instance.init_error = body
        invocation = instance.invocation
        if invocation is not None:
            instance.finish(invocation, restore_failed())
        return _reply(202)

    async def listen_in(self, pid: int) -> Listener:
        """A listener bound inside process ``pid``'s network namespace (a forked
        instance's, which made its own), on a port of the isolated range."""
        assert self._runner is not None
        port = next(self._ports)
        while port in self._instances:
            port = next(self._ports)
        sock = await asyncio.to_thread(sandbox.bind_in_network, pid, port)
        site = web.SockSite(self._runner, sock)
        await site.start()
        return Listener(self, site, port)


def restore_failed() -> Outcome:
    """An after-restore hook raised: the invoke fails with SnapStartException (400)."""
    # https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
    return Outcome(
        b"",
        error_type="SnapStartException",
        fatal=True,
        status="error",
        service_error=(
            400,
            "SnapStartException",
            "The afterRestore() runtime hook encountered an error. For more information, "
            "check the Amazon CloudWatch logs.",
        ),
    )


class Listener:
    """One instance's Runtime API address: ``attach`` the instance, ``close`` when done."""

    def __init__(
        self, api: RuntimeAPI, site: web.BaseSite, port: int, namespace: int | None = None
    ) -> None:
        self.port = port
        self.namespace = namespace  # the network namespace it is bound in, until released
        self._api = api
        self._site: web.BaseSite | None = site

    def release_namespace(self) -> None:
        """Drop the handle on the namespace (the instance and the listener keep it alive)."""
        if self.namespace is not None:
            os.close(self.namespace)
            self.namespace = None

    def attach(self, instance: Instance) -> None:
        self._api._instances[self.port] = instance

    def close(self) -> None:
        self.release_namespace()
        self._api._instances.pop(self.port, None)
        if self._site is not None:
            site, self._site = self._site, None
            task = asyncio.ensure_future(site.stop())
            self._api.closing.add(task)
            task.add_done_callback(self._api.closing.discard)


def _stream_error(invocation: Invocation, error_type: str, document: bytes) -> Outcome:
    if not document:
        document = (
            b'{"errorMessage":"the function failed while streaming","errorType":"%s"}'
            % error_type.encode()
        )
    return Outcome(document, error_type=error_type, streamed=True)


def _invalid_id(request_id: str) -> web.Response:
    return _reply(
        400,
        b'{"errorMessage":"Invalid request ID: %s","errorType":"InvalidRequestID"}'
        % request_id.encode("ascii", "replace")[:100],
    )


async def _read_limited(request: web.BaseRequest, limit: int) -> bytes | None:
    """The whole body, or None (after draining it) if it is larger than ``limit``."""
    length = request.content_length
    if length is not None and length <= limit:
        return await request.content.readexactly(length) if length else b""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size <= limit:
            parts.append(chunk)
    return b"".join(parts) if size <= limit else None
