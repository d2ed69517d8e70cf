"""Running a WSGI app (PEP 3333) for one ``HttpRequest``."""

from __future__ import annotations

import sys
from io import BytesIO

from strum.adapter._request import (
    HttpRequest,
    client_address,
    header_error,
    server_address,
)

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

if TYPE_CHECKING:
    WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Environ keys for header names already seen, by the name as the gateway spelled it.
# Bounded, because header names come from clients and a process serves thousands of
# requests. Content-Type and Content-Length have keys of their own in PEP 3333.
_ENVIRON_KEYS: dict[str, str] = {}
_ENVIRON_KEYS_MAX = 1024
_COOKIE = "HTTP_COOKIE"


def _environ_key(name: str) -> str:
    key = "HTTP_" + name.upper().replace("-", "_")
    if key == "HTTP_CONTENT_TYPE":
        key = "CONTENT_TYPE"
    elif key == "HTTP_CONTENT_LENGTH":
        key = "CONTENT_LENGTH"
    if len(_ENVIRON_KEYS) < _ENVIRON_KEYS_MAX:
        _ENVIRON_KEYS[name] = key
    return key


def _latin1(text: str) -> str:
    """PEP 3333 "bytes-as-str": UTF-8 bytes of ``text`` seen through latin-1."""
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


def build_environ(request: HttpRequest) -> dict[str, Any]:
    """The WSGI environ for ``request``.

    ``SCRIPT_NAME`` carries the stripped stage or base path, so ``url_for`` and redirects
    produce URLs that work through the gateway. Repeated headers are joined with ``,``
    except ``Cookie``, joined with ``; `` as RFC 6265 requires. ``CONTENT_LENGTH`` is the
    length of the decoded body, which is what the app will read.
    """
    body = request.body
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": _latin1(request.root_path),
        "PATH_INFO": _latin1(request.path),
        "QUERY_STRING": _latin1(request.query_string),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "lambda.event": request.event,
        "lambda.context": request.context,
    }
    try:
        _add_headers(environ, request.headers, request.multi_headers)
    except (AttributeError, TypeError):
        raise header_error(request.headers, request.multi_headers) from None
    if request.cookies:
        environ[_COOKIE] = _latin1("; ".join(request.cookies))
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    elif "CONTENT_LENGTH" in environ:
        environ["CONTENT_LENGTH"] = "0"
    scheme, server_name, server_port = server_address(
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_PROTO"),
        environ.get("HTTP_X_FORWARDED_PORT"),
        request.default_host,
    )
    environ["wsgi.url_scheme"] = scheme
    environ["SERVER_NAME"] = server_name
    environ["SERVER_PORT"] = str(server_port)
    environ["REMOTE_ADDR"] = (
        client_address(request.source_ip, environ.get("HTTP_X_FORWARDED_FOR")) or "127.0.0.1"
    )
    return environ


def _add_headers(
    environ: dict[str, Any],
    headers: dict[str, str] | None,
    multi: dict[str, list[str]] | None,
) -> None:
    # The hottest loop of the adapter: no per-value type checks (a wrong type fails here
    # with AttributeError/TypeError and _header_error explains it), one dict lookup for the
    # key, and the rare cases (non-ASCII, repeats) kept off the common path.
    keys = _ENVIRON_KEYS
    if headers:
        for name, value in headers.items():
            if not value.isascii():
                value = value.encode("utf-8").decode("latin-1")
            environ[keys.get(name) or _environ_key(name)] = value
    if multi:
        for name, values in multi.items():
            if type(values) is not list:
                raise TypeError(name)
            key = keys.get(name) or _environ_key(name)
            if len(values) == 1:
                value = values[0]
            else:
                value = ("; " if key == _COOKIE else ",").join(values)
            if not value.isascii():
                value = value.encode("utf-8").decode("latin-1")
            if key in environ:  # the same header under two spellings of its name
                value = f"{environ[key]}{'; ' if key == _COOKIE else ','}{value}"
            environ[key] = value


class _StartResponse:
    """PEP 3333's ``start_response``: records status and headers, collects ``write()`` data."""

    __slots__ = ("headers", "status", "written")

    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        if exc_info and self.status:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = status
        self.headers = headers
        return self.written.append

    def check(self) -> None:
        if not self.status:
            raise RuntimeError("the WSGI app returned without calling start_response")


def run_wsgi(app: WSGIApp, request: HttpRequest) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Call ``app`` and collect ``(status, reason, headers, body)``.

    Lambda's buffered responses need the whole body, so the app's iterable is drained here
    and closed as PEP 3333 requires, even when iteration fails.
    """
    start = _StartResponse()
    result = app(build_environ(request), start)
    try:
        chunks = result if type(result) is list else list(result)
    finally:
        _close(result)
    start.check()
    if start.written:
        chunks = [*start.written, *chunks]
    status = start.status
    return int(status[:3]), status[4:], start.headers, b"".join(chunks)


def stream_wsgi(
    app: WSGIApp, request: HttpRequest
) -> tuple[int, str, list[tuple[str, str]], Iterator[bytes]]:
    """Call ``app`` and return its status and headers with the body still to be iterated.

    The first chunk is pulled here, because generator apps may call ``start_response`` only
    when iteration begins; the rest is yielded as the app produces it, for Lambda response
    streaming. The app's iterable is closed when the returned iterator finishes or fails.
    """
    start = _StartResponse()
    result = app(build_environ(request), start)
    iterator = iter(result)
    try:
        first = next(iterator, b"")
        start.check()
    except BaseException:
        _close(result)
        raise

    def body() -> Iterator[bytes]:
        try:
            yield from start.written
            yield first
            yield from iterator
        finally:
            _close(result)

    status = start.status
    return int(status[:3]), status[4:], start.headers, body()


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
