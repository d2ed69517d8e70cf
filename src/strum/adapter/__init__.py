"""The HTTP adapter: Lambda HTTP events in, WSGI/ASGI app in the middle, responses out.

Pure translation, standard library only, nothing done at import time. ``make_handler`` is
the one public entry point; event shapes live in ``strum.adapter.sources`` and the two app
interfaces in ``_wsgi`` / ``_asgi`` (the latter imported only for ASGI apps).
"""

from __future__ import annotations

import binascii

from strum.adapter._body import encode_body, too_large
from strum.adapter._request import HttpRequest
from strum.adapter._wsgi import run_wsgi, stream_wsgi
from strum.adapter.sources import SOURCES, find_source
from strum.adapter.sources._common import join_headers
from strum.errors import AppError, InvalidEvent

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any, Literal

    from strum.adapter.sources import EventSource

__all__ = ["LambdaHandler", "detect_interface", "make_handler"]

if TYPE_CHECKING:
    Interface = Literal["wsgi", "asgi"]
    Response = tuple[int, str, list[tuple[str, str]], bytes]

_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect (~5 ms)
_CO_ITERABLE_COROUTINE = 0x100
_CO_VARARGS = 0x04


class LambdaHandler:
    """A Lambda handler serving one WSGI or ASGI app; call it as ``handler(event, context)``.

    Built by ``make_handler``. The event source is detected per event (the last one seen is
    tried first, since a function is usually wired to one gateway). ``shutdown()`` runs the
    ASGI lifespan shutdown; it is also registered with ``atexit``, which strum's runtime
    honours on SIGTERM.
    """

    __slots__ = (
        "_last_source",
        "_run",
        "_runner",
        "_stream_wsgi",
        "base_path",
        "interface",
        "text_mime_types",
    )

    def __init__(
        self,
        run: Callable[[HttpRequest], Response],
        *,
        interface: Interface,
        base_path: str,
        text_mime_types: frozenset[str],
        runner: Any = None,
        stream_wsgi: Any = None,
    ) -> None:
        self._run = run
        self._runner = runner
        self._stream_wsgi = stream_wsgi
        self._last_source: EventSource = SOURCES[0]
        self.interface = interface
        self.base_path = base_path
        self.text_mime_types = text_mime_types

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        source, request = self._request(event, context)
        try:
            status, reason, headers, body = self._run(request)
        except InvalidEvent as exc:  # a header of the wrong type, found while translating
            raise InvalidEvent(_invalid_event_message(source, exc)) from exc
        except Exception:
            _log_app_error(request)
            status, reason, headers = 500, "Internal Server Error", [("Content-Type", "text/plain")]
            body = b"Internal Server Error"
        if request.method == "HEAD":
            body = b""  # RFC 9110: never content in a HEAD response, whatever the app sent
        content_type = content_encoding = None
        for name, value in headers:
            lower = name.lower()
            if lower == "content-type":
                content_type = value
            elif lower == "content-encoding":
                content_encoding = value
        text, is_base64 = encode_body(body, content_type, content_encoding, self.text_mime_types)
        if too_large(text):
            status, reason, headers, text, is_base64 = _too_large_response(len(text))
        return source.respond(status, reason, headers, text, is_base64, request)

    def stream(
        self, event: dict[str, Any], context: Any = None
    ) -> tuple[dict[str, Any], Iterator[bytes]]:
        """Serve an HTTP event with the body as an iterator, for Lambda response streaming.

        Returns the payload 2.0 style prelude (``statusCode``, ``headers``, ``cookies``) that
        Function URLs expect before the body, and an iterator of body chunks that yields
        each chunk as the app produces it. Errors before the response starts become a 500,
        as in ``__call__``; an error mid-body propagates from the iterator, so the runtime
        can end the stream with Lambda's error trailers.
        """
        source, request = self._request(event, context)
        opener = self._runner.stream if self._runner is not None else self._stream_wsgi
        try:
            status, _, headers, chunks = opener(request)
        except InvalidEvent as exc:
            raise InvalidEvent(_invalid_event_message(source, exc)) from exc
        except Exception:
            _log_app_error(request)
            status, headers = 500, [("Content-Type", "text/plain")]
            chunks = iter((b"Internal Server Error",))
        if request.method == "HEAD":
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            chunks = iter(())
        joined, cookies = join_headers(headers)
        return {"statusCode": status, "headers": joined, "cookies": cookies}, chunks

    def _request(self, event: dict[str, Any], context: Any) -> tuple[EventSource, HttpRequest]:
        """The event's source (the last one seen is tried first) and its parsed request."""
        source = self._last_source
        if type(event) is not dict or not source.infer(event):
            source = self._last_source = find_source(event)
        try:
            request = source.parse(event, self.base_path)
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
            raise InvalidEvent(_invalid_event_message(source, exc)) from exc
        request.context = context
        return source, request

    def shutdown(self) -> None:
        """Run the ASGI app's lifespan shutdown (no-op for WSGI); safe to call twice."""
        if self._runner is not None:
            self._runner.close()


def make_handler(
    app: Any,
    *,
    base_path: str | None = None,
    text_mime_types: Iterable[str] = (),
    lifespan: Literal["auto", "on", "off"] = "auto",
    interface: Literal["auto", "wsgi", "asgi"] = "auto",
) -> LambdaHandler:
    """Wrap a WSGI or ASGI ``app`` as a Lambda handler for every HTTP event kind.

    ``base_path`` is a custom-domain path prefix to strip (it moves into ``SCRIPT_NAME`` /
    ``root_path``). ``text_mime_types`` adds media types whose bodies go out as text rather
    than base64. ``lifespan`` controls ASGI lifespan: "auto" uses it when the app supports
    it, "on" requires it, "off" skips it; startup runs here, once. ``interface`` overrides
    WSGI/ASGI detection.
    """
    if lifespan not in ("auto", "on", "off"):
        raise ValueError(f"lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
    kind = detect_interface(app) if interface == "auto" else interface
    if kind not in ("wsgi", "asgi"):
        raise ValueError(f"interface must be 'auto', 'wsgi' or 'asgi', not {interface!r}")
    if isinstance(text_mime_types, str):
        raise TypeError("text_mime_types takes a list of media types, not one string")
    text_types = frozenset(mime.strip().lower() for mime in text_mime_types)
    prefix = (base_path or "").strip()
    if kind == "wsgi":
        return LambdaHandler(
            lambda request: run_wsgi(app, request),
            stream_wsgi=lambda request: stream_wsgi(app, request),
            interface="wsgi",
            base_path=prefix,
            text_mime_types=text_types,
        )
    import atexit

    from strum.adapter._asgi import ASGIRunner

    runner = ASGIRunner(app, lifespan)
    handler = LambdaHandler(
        runner, interface="asgi", base_path=prefix, text_mime_types=text_types, runner=runner
    )
    atexit.register(handler.shutdown)
    return handler


def detect_interface(app: Any) -> Interface:
    """Tell a WSGI app from an ASGI app by the shape of its callable.

    ``async def`` (the app or its ``__call__``) means ASGI; otherwise the positional
    parameter count decides: two (environ, start_response) is WSGI, three (scope, receive,
    send) is ASGI. Raises ``AppError`` when neither fits.
    """
    if not callable(app):
        raise AppError(
            f"the app is a {type(app).__name__}, not a WSGI or ASGI callable; "
            "point [tool.strum] app at the application object (e.g. 'hello:app')"
        )
    target: Any = app
    for _ in range(8):  # unwrap functools.wraps chains and callable objects
        code = getattr(target, "__code__", None)
        if code is not None:
            if code.co_flags & (_CO_COROUTINE | _CO_ITERABLE_COROUTINE):
                return "asgi"
            wrapped = getattr(target, "__wrapped__", None)
            if code.co_flags & _CO_VARARGS and wrapped is not None:
                target = wrapped
                continue
            positional = code.co_argcount - (1 if hasattr(target, "__self__") else 0)
            if positional == 2:
                return "wsgi"
            if positional == 3:
                return "asgi"
            break
        func = getattr(target, "__func__", None)  # bound/class methods of builtins etc.
        if func is not None:
            target = func
            continue
        call = type(target).__call__  # an object whose class defines the call
        if call is target:
            break
        target = call.__get__(target) if hasattr(call, "__get__") else call
    raise AppError(
        f"cannot tell whether {app!r} is a WSGI or an ASGI app; "
        "pass interface='wsgi' or interface='asgi' to make_handler"
    )


def _invalid_event_message(source: EventSource, exc: BaseException) -> str:
    problem = f"it has no {exc.args[0]!r} key" if isinstance(exc, KeyError) else str(exc)
    return f"malformed {source.NAME} event: {problem}"


def _log_app_error(request: HttpRequest) -> None:
    import logging

    logging.getLogger("strum.adapter").exception(
        "unhandled exception in the app while serving %s %s", request.method, request.path
    )


def _too_large_response(size: int) -> tuple[int, str, list[tuple[str, str]], str, bool]:
    import json
    import logging

    message = (
        f"the response body is {size} bytes once encoded, over Lambda's 6 MB limit for "
        "buffered responses; stream it, paginate it, or serve it from S3"
    )
    logging.getLogger("strum.adapter").error(message)
    body = json.dumps({"message": "Response too large", "detail": message})
    return 502, "Bad Gateway", [("Content-Type", "application/json")], body, False
