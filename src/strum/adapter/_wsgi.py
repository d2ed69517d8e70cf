"""Running a WSGI app (PEP 3333) for one ``HttpRequest``."""

from __future__ import annotations

import sys
from io import BytesIO

from strum.adapter._request import HttpRequest

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

if TYPE_CHECKING:
    WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# "HTTP_" keys for header names already seen. Bounded, because header names come from
# clients and a process lives for thousands of requests.
_ENVIRON_KEYS: dict[str, str] = {}
_ENVIRON_KEYS_MAX = 512


def _environ_key(name: str) -> str:
    key = _ENVIRON_KEYS.get(name)
    if key is None:
        key = "HTTP_" + name.upper().replace("-", "_")
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
    except ``Cookie``, joined with ``; `` as RFC 6265 requires.
    """
    body = request.body
    server_name, server_port = request.server
    client = request.client
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": _latin1(request.root_path),
        "PATH_INFO": _latin1(request.path),
        "QUERY_STRING": _latin1(request.query_string),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0] if client else "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "lambda.event": request.event,
        "lambda.context": request.context,
    }
    for name, value in request.headers:
        if not value.isascii():
            value = value.encode("utf-8").decode("latin-1")
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "content-length":
            continue  # set below from the decoded body, which is what the app will read
        key = _environ_key(name)
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = f"{environ[key]}{separator}{value}"
        else:
            environ[key] = value
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def run_wsgi(app: WSGIApp, request: HttpRequest) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """Call ``app`` and collect ``(status, reason, headers, body)``.

    Lambda's buffered responses need the whole body, so the app's iterable is drained here
    and closed as PEP 3333 requires, even when iteration fails.
    """
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = (status, headers)
        return written.append

    result = app(build_environ(request), start_response)
    try:
        chunks = result if type(result) is list else list(result)
    finally:
        _close(result)
    if not started:
        raise RuntimeError("the WSGI app returned without calling start_response")
    status, headers = started
    if written:
        chunks = [*written, *chunks]
    return int(status[:3]), status[4:], headers, b"".join(chunks)


def stream_wsgi(
    app: WSGIApp, request: HttpRequest
) -> tuple[int, str, list[tuple[str, str]], Iterator[bytes]]:
    """Call ``app`` and return its status and headers with the body still to be iterated.

    The first chunk is pulled here, because generator apps may call ``start_response`` only
    when iteration begins; the rest is yielded as the app produces it, for Lambda response
    streaming. The app's iterable is closed when the returned iterator finishes or fails.
    """
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = (status, headers)
        return written.append

    result = app(build_environ(request), start_response)
    iterator = iter(result)
    try:
        first = next(iterator, b"")
    except BaseException:
        _close(result)
        raise
    if not started:
        _close(result)
        raise RuntimeError("the WSGI app returned without calling start_response")

    def body() -> Iterator[bytes]:
        try:
            yield from written
            yield first
            yield from iterator
        finally:
            _close(result)

    status, headers = started
    return int(status[:3]), status[4:], headers, body()


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
