"""The source-neutral HTTP request every event source produces.

Event sources (``strum.adapter.sources``) translate one Lambda event shape into a
``HttpRequest``; the WSGI and ASGI bridges build their environ / scope from it. Keeping this
one small, slot-based class in the middle is what lets seven event shapes share two bridges.

Headers stay in the shape the gateway sent them (a ``{name: value}`` map, a
``{name: [values]}`` map, or both) and the bridges read them in one pass: copying them
into a neutral list first would cost more than the whole rest of the translation.
"""

from __future__ import annotations

from strum.errors import InvalidEvent

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class HttpRequest:
    """One HTTP request, as the gateway received it.

    ``path`` is percent-decoded text *below* ``root_path`` (the stage or base path strum
    stripped, which the app needs to build URLs that work through the gateway).
    ``raw_path`` is the percent-encoded full path (root path included) when the gateway
    kept it, else None. ``query_string`` is the percent-encoded query without ``?``.
    ``headers`` maps names to one value each, ``multi_headers`` names to lists of values
    (repeats kept), either may be None; ``cookies`` (payload 2.0) replaces any Cookie header.
    """

    __slots__ = (
        "body",
        "context",
        "cookies",
        "default_host",
        "event",
        "headers",
        "method",
        "multi_headers",
        "path",
        "query_string",
        "raw_path",
        "root_path",
        "source_ip",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        body: bytes,
        event: dict[str, Any],
        headers: dict[str, str] | None = None,
        multi_headers: dict[str, list[str]] | None = None,
        *,
        cookies: list[str] | None = None,
        root_path: str = "",
        raw_path: str | None = None,
        source_ip: str | None = None,
        default_host: str = "localhost",
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.body = body
        self.event = event
        self.headers = headers
        self.multi_headers = multi_headers
        self.cookies = cookies
        self.root_path = root_path
        self.raw_path = raw_path
        self.source_ip = source_ip
        self.default_host = default_host
        self.context: Any = None


def bad_header(name: object, value: object) -> InvalidEvent:
    """The error for a header value of the wrong JSON type."""
    return InvalidEvent(f"header {name!r} has a {type(value).__name__} value, not text")


def header_error(headers: dict[str, Any] | None, multi: dict[str, Any] | None) -> InvalidEvent:
    """Name the header whose value is not what the gateway format promises."""
    for name, value in (headers or {}).items():
        if type(value) is not str:
            return bad_header(name, value)
    for name, values in (multi or {}).items():
        if type(values) is not list:
            return InvalidEvent(f"header {name!r} should map to a list of values, not {values!r}")
        for value in values:
            if type(value) is not str:
                return bad_header(name, value)
    return InvalidEvent("the event's headers are malformed")


def server_address(
    host: str | None, proto: str | None, port: str | None, default_host: str
) -> tuple[str, str, int]:
    """``(scheme, server name, server port)`` from Host and the X-Forwarded-* headers.

    Gateways terminate TLS and say so in ``X-Forwarded-Proto``; without it, HTTPS is the
    safe guess for every Lambda HTTP entry point.
    """
    if proto is None or proto == "https":
        scheme = "https"
    elif proto == "http":
        scheme = "http"
    else:
        scheme = proto.split(",", 1)[0].strip().lower() or "https"
    if not host:
        host = default_host
    if ":" in host and not host.endswith("]"):
        host, _, port_in_host = host.rpartition(":")
        if port is None and port_in_host.isdigit():
            port = port_in_host
    if port is not None and port.isdigit():
        return scheme, host, int(port)
    return scheme, host, 443 if scheme == "https" else 80


def client_address(source_ip: str | None, forwarded_for: str | None) -> str | None:
    """The client's address: the gateway's own field, else the last X-Forwarded-For hop."""
    if source_ip:
        return source_ip
    if forwarded_for:
        # Load balancers append the address they saw: the right-most entry is the one
        # no client could forge.
        return forwarded_for.rsplit(",", 1)[-1].strip()
    return None


def split_path_prefix(path: str, prefix: str) -> tuple[str, str] | None:
    """Split ``prefix`` off ``path`` at a segment boundary, or return None.

    ``/dev`` is a prefix of ``/dev`` and ``/dev/x`` but not of ``/devices``; a trailing
    slash on the prefix is ignored. The path left over always starts with ``/``.
    """
    prefix = prefix.rstrip("/")
    if not prefix:
        return None
    if not prefix.startswith("/"):
        prefix = "/" + prefix
    if path == prefix:
        return prefix, "/"
    if path.startswith(prefix) and path[len(prefix)] == "/":
        return prefix, path[len(prefix) :]
    return None
