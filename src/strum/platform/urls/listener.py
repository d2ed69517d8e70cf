"""Function URLs: one plain HTTP listener per URL config, so the app sees its own root.

Each URL config gets a loopback port of its own (``http://127.0.0.1:<port>/``), kept in the
store so the same URL works again after a restart. A request becomes the payload 2.0 event
(``events``), runs through the ``Invoker`` like any other invocation (``invoke_stream`` for
``RESPONSE_STREAM`` URLs, which stream the function's body to the client as the function
produces it), and the result becomes the HTTP response by AWS's rules.

AWS's answers where the function is not the one answering: 403 ``{"Message":"Forbidden"}``
for a missing or bad SigV4 signature on an ``AWS_IAM`` URL, 429 when throttled, 413 for a
request over the 6 MB payload limit, and 502 ``Internal Server Error`` for a function error
or a response that cannot be mapped.

Every request that reaches a listener leaves one access line in the function's log (stream
``access``, after the invocation's END/REPORT): method, path and query, status, milliseconds
from arrival to the response (to the last chunk, streamed), and the body bytes - ``strum
tail`` shows them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from strum.platform.api import error_response
from strum.platform.errors import AccessDenied, PlatformError, RequestTooLarge, TooManyRequests
from strum.platform.identity import Authority
from strum.platform.invoke import SYNC_PAYLOAD_LIMIT, Invoker
from strum.platform.settings import Settings
from strum.platform.state import Store, remember_port, remembered_port, url_key
from strum.platform.urls import events
from strum.platform.urls.events import MalformedResponse, UrlContext, UrlRequest, UrlResponse

__all__ = ["FunctionUrls"]

logger = logging.getLogger(__name__)

# The synchronous invoke payload limit applies to the event, which carries the body.
MAX_REQUEST_BODY = SYNC_PAYLOAD_LIMIT
# A streaming prelude larger than this is not a prelude.
MAX_PRELUDE = 64 * 1024
_ANY_HOST = ("", "0.0.0.0", "::")
_HOP_BY_HOP = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade")
)


class FunctionUrls:
    """The Function URL listeners of one platform, keyed like the store's URL configs.

    A key is the function name, or ``name:alias`` for an alias's URL. ``open`` binds (or
    refreshes the configuration of) a listener; ``close`` unbinds it.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        invoker: Invoker,
        authority: Authority,
        access_log: AccessLog | None = None,
    ) -> None:
        self._store = store
        self._access_log = access_log
        self._settings = settings
        self._invoker = invoker
        self._authority = authority
        self._listeners: dict[str, _Listener] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Bind a listener for every stored URL config, on its stored port when free."""
        for config in self._store.list_url_configs():
            try:
                await self.open(config["key"])
            except OSError:
                logger.exception("could not bind the function URL of %s", config["key"])

    async def open(self, name: str) -> str:
        """Bind the URL config under key ``name`` if not bound yet; return its URL."""
        async with self._lock:
            config = self._store.get_url_config(name)
            if config is None:
                raise KeyError(f"no function URL config for {name}")
            listener = self._listeners.get(name)
            if listener is not None:
                listener.config = config
                return listener.url
            listener = _Listener(
                self._settings,
                self._invoker,
                config,
                self._authority,
                self._store.arn,
                self._access_log,
            )
            # The port it had, else the one this URL had before it was last deleted: a stage
            # undeployed and deployed again gets its URL back.
            await listener.bind(config.get("port") or remembered_port(self._store, name))
            if listener.port != config.get("port"):
                self._store.set_url_port(name, listener.port)
            remember_port(self._store, name, listener.port)
            self._listeners[name] = listener
            logger.info("function URL of %s at %s", name, listener.url)
            return listener.url

    async def close(self, name: str) -> None:
        """Unbind the listener of ``name`` (nothing happens when none is bound)."""
        async with self._lock:
            listener = self._listeners.pop(name, None)
        if listener is not None:
            await listener.close()

    def find(
        self, function_name: str, qualifier: str
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
        """The request handler of a bound URL (names compared case-insensitively, as a
        ``Host`` is), or None: what ``hosts.host_routing`` serves a stage's host with."""
        wanted = url_key(function_name, qualifier).lower()
        for key, listener in self._listeners.items():
            if key.lower() == wanted:
                return listener.handle
        return None

    def url_for(self, name: str) -> str | None:
        """The URL of a bound listener, or None."""
        listener = self._listeners.get(name)
        return listener.url if listener is not None else None

    async def stop(self) -> None:
        """Unbind every listener."""
        async with self._lock:
            listeners, self._listeners = list(self._listeners.values()), {}
        await asyncio.gather(*(listener.close() for listener in listeners))


# (function, version, request id, stream, line): how an access line reaches the function's log.
AccessLog = Callable[[str, str, str, str, str], None]
# Keys a response carries for its access line: the version that served it, body bytes sent.
_VERSION = web.ResponseKey("strum.version", str)
_SENT = web.ResponseKey("strum.sent", int)


def access_line(method: str, target: str, status: int, duration_ms: float, size: int) -> str:
    """The access line of one Function URL request, e.g.
    ``GET /items?page=2 200 12.34 ms 153 bytes``."""
    return f"{method} {target} {status} {duration_ms:.2f} ms {size} bytes"


class _Listener:
    """One URL config's HTTP listener and its request handling."""

    def __init__(
        self,
        settings: Settings,
        invoker: Invoker,
        config: dict[str, Any],
        authority: Authority,
        arn: Callable[[str, str | None], str],
        access_log: AccessLog | None = None,
    ) -> None:
        self.access_log = access_log
        self.settings = settings
        self.invoker = invoker
        self.config = config
        self.authority = authority
        self.arn = arn
        self.url_id = events.url_id(settings.account_id, config["key"])
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = self.settings.host
        host = "127.0.0.1" if host in _ANY_HOST else host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"

    async def bind(self, preferred: int | None) -> None:
        app = web.Application(client_max_size=MAX_REQUEST_BODY)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        host = self.settings.host
        try:
            site = await self._start_site(runner, host, preferred or 0)
        except OSError:
            if not preferred:
                await runner.cleanup()
                raise
            logger.warning("port %s of the function URL is taken; binding a new one", preferred)
            site = await self._start_site(runner, host, 0)
        sockets = site._server.sockets if site._server else []  # type: ignore[attr-defined]
        self.port = int(sockets[0].getsockname()[1])
        self._runner = runner

    @staticmethod
    async def _start_site(runner: web.AppRunner, host: str, port: int) -> web.TCPSite:
        site = web.TCPSite(runner, host, port)
        await site.start()
        return site

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- requests -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        response = await self._serve(request, request_id)
        if self.access_log is not None:
            size = response.get(_SENT)
            if size is None:
                body = response.body if isinstance(response, web.Response) else None
                size = len(body) if isinstance(body, bytes) else 0
            line = access_line(
                request.method,
                request.raw_path,
                response.status,
                (time.perf_counter() - started) * 1000,
                size,
            )
            version = response.get(_VERSION) or self.config.get("qualifier") or "$LATEST"
            self.access_log(self.config["function_name"], version, request_id, "access", line)
        return response

    async def _serve(self, request: web.Request, request_id: str) -> web.StreamResponse:
        config = self.config
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            too_large = RequestTooLarge(
                f"Request must be smaller than {MAX_REQUEST_BODY} bytes for the InvokeFunction "
                "operation"
            )
            return _front_end_error(too_large, request_id)
        headers = _lower_headers(request)
        cors: dict[str, Any] = config.get("cors") or {}
        if request.method == "OPTIONS":
            preflight = events.cors_preflight(cors, headers)
            if preflight is not None:
                return _respond(preflight, request_id)
        caller: dict[str, Any] | None = None
        if config["auth_type"] == "AWS_IAM":
            try:
                caller = self._authenticate(request, body)
            except PlatformError as exc:
                # AWS says no more than "Forbidden" to the caller; the log says why.
                logger.info("function URL %s refused a request: %s", config["key"], exc)
                return _front_end_error(AccessDenied("Forbidden"), request_id)
        context = UrlContext(
            url_id=self.url_id,
            region=self.settings.region,
            account_id=self.settings.account_id,
            auth_type=config["auth_type"],
            caller=caller,
        )
        event = events.build_event(
            UrlRequest(
                method=request.method,
                raw_path=request.raw_path,
                headers=_arrival_headers(request, _arrival_port(request, self.port)),
                body=body,
                source_ip=request.remote or "127.0.0.1",
                protocol=f"HTTP/{request.version.major}.{request.version.minor}",
            ),
            context,
            request_id,
        )
        payload = json.dumps(event, ensure_ascii=False).encode("utf-8")
        try:
            if config["invoke_mode"] == "RESPONSE_STREAM":
                return await self._stream(request, payload, request_id, cors, headers)
            return await self._buffered(payload, request_id, cors, headers)
        except TooManyRequests as throttled:
            logger.info("function URL %s throttled: %s", config["key"], throttled.reason)
            return _front_end_error(throttled, request_id, "Rate Exceeded.")
        except PlatformError as error:
            return _front_end_error(error, request_id)

    def _authenticate(self, request: web.Request, body: bytes) -> dict[str, Any]:
        """An ``AWS_IAM`` URL's caller: signed by a key of this platform, and allowed
        ``lambda:InvokeFunctionUrl`` on the function (the event's ``authorizer.iam``)."""
        caller = self.authority.authenticate(
            method=request.method, raw_path=request.raw_path, headers=request.headers, body=body
        )
        self.authority.authorize(
            caller,
            "lambda:InvokeFunctionUrl",
            self.arn(self.config["function_name"], self.config["qualifier"]),
            context={"lambda:FunctionUrlAuthType": "AWS_IAM", "aws:SourceIp": request.remote or ""},
        )
        return {
            "accessKey": caller.access_key_id,
            "accountId": caller.account,
            "callerId": caller.name,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": caller.arn,
            "userId": caller.name,
        }

    async def _buffered(
        self, payload: bytes, request_id: str, cors: dict[str, Any], headers: dict[str, str]
    ) -> web.StreamResponse:
        result = await self.invoker.invoke(
            self.config["function_name"],
            self.config["qualifier"],
            payload,
            request_id=request_id,
        )
        if result.function_error:
            response = events.bad_gateway()
        else:
            try:
                response = events.interpret_result(result.payload)
            except MalformedResponse as exc:
                logger.warning("function URL %s: %s", self.config["key"], exc)
                response = events.bad_gateway()
        response.headers = events.apply_cors(cors, headers, response.headers)
        answer = _respond(response, request_id)
        answer[_VERSION] = result.executed_version
        return answer

    async def _stream(
        self,
        request: web.Request,
        payload: bytes,
        request_id: str,
        cors: dict[str, Any],
        headers: dict[str, str],
    ) -> web.StreamResponse:
        answer, chunks = await self.invoker.invoke_stream(
            self.config["function_name"], self.config["qualifier"], payload, request_id=request_id
        )
        iterator = chunks.__aiter__()
        version = answer.get("X-Amz-Executed-Version")
        if answer.get("X-Amz-Function-Error"):
            await _drain(iterator)
            failed = _respond(events.bad_gateway(), request_id)
            failed[_VERSION] = version or ""
            return failed
        content_type = answer.get("Content-Type") or "application/octet-stream"
        first = b""
        if content_type == events.HTTP_INTEGRATION_TYPE:
            try:
                head, first = await _read_prelude(iterator)
            except Exception as exc:
                logger.warning("function URL %s: %s", self.config["key"], exc)
                await _drain(iterator)
                return _respond(events.bad_gateway(), request_id)
        else:
            head = UrlResponse(200, [("Content-Type", content_type)])
        response = web.StreamResponse(
            status=head.status,
            headers=CIMultiDict(events.apply_cors(cors, headers, head.headers)),
        )
        response.headers["x-amzn-RequestId"] = request_id
        # A streamed body goes out chunked, whatever length the app declared (Flask and
        # FastAPI set Content-Length on ordinary responses); HTTP/1.1 allows one or the other.
        response.headers.popall("Content-Length", None)
        response.enable_chunked_encoding()
        response[_VERSION] = version or ""
        response[_SENT] = 0
        await response.prepare(request)
        try:
            if first:
                await response.write(first)
                response[_SENT] += len(first)
            async for chunk in iterator:
                await response.write(chunk)
                response[_SENT] += len(chunk)
        except Exception as exc:
            # Headers are gone already: like AWS, end the response abruptly so the client
            # sees a broken stream rather than a truncated success.
            logger.warning("function URL %s: stream failed: %s", self.config["key"], exc)
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response


async def _read_prelude(iterator: AsyncIterator[bytes]) -> tuple[UrlResponse, bytes]:
    """Read chunks until the http-integration prelude is complete."""
    buffer = b""
    async for chunk in iterator:
        buffer += chunk
        split = events.split_prelude(buffer)
        if split is not None:
            prelude, rest = split
            return events.response_from_document(prelude, body_required=False), rest
        if len(buffer) > MAX_PRELUDE:
            break
    raise MalformedResponse("the streamed response has no http-integration prelude")


async def _drain(iterator: AsyncIterator[bytes]) -> None:
    try:
        async for _ in iterator:
            pass
    except Exception:
        logger.debug("error while draining a failed stream", exc_info=True)


def _arrival_headers(request: web.Request, port: int) -> list[tuple[str, str]]:
    """The request's headers as sent, plus the ones AWS's front end adds."""
    # Hop-by-hop headers end at AWS's front end; live captures never carry them.
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request.raw_headers
        if name.lower() not in _HOP_BY_HOP
    ]
    # A client-sent X-Forwarded-For gets the peer appended, as proxies do.
    headers.append(("x-forwarded-for", request.remote or "127.0.0.1"))
    headers.append(("x-forwarded-port", str(port)))
    headers.append(("x-forwarded-proto", request.scheme))
    if "X-Amzn-Trace-Id" not in request.headers:
        headers.append(("x-amzn-trace-id", _trace_id()))
    return headers


def _arrival_port(request: web.Request, default: int) -> int:
    """The port the request came in on: the listener's own, or the platform's for a
    request routed by its stage host (``hosts``)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if isinstance(sockname, tuple) and len(sockname) > 1 else default


def _trace_id() -> str:
    """An X-Ray trace header: ``Root=1-<epoch seconds hex>-<96 random bits hex>``."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def _lower_headers(request: web.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        lower = name.lower()
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    return headers


def _respond(response: UrlResponse, request_id: str) -> web.Response:
    headers = CIMultiDict(response.headers)
    headers["x-amzn-RequestId"] = request_id
    return web.Response(status=response.status, body=response.body, headers=headers)


def _front_end_error(
    error: PlatformError, request_id: str, message: str | None = None
) -> web.Response:
    """An error as a Function URL's front end answers it: ``{"Message": ...}``."""
    return error_response(error, request_id, body={"Message": message or error.message})
