"""The source-neutral HTTP request every event source produces.

Event sources (``strum.adapter.sources``) translate one Lambda event shape into a
``HttpRequest``; the WSGI and ASGI bridges build their environ / scope from it. Keeping this
one small, slot-based class in the middle is what lets seven event shapes share two bridges.
"""

from __future__ import annotations

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class HttpRequest:
    """One HTTP request, as the gateway received it.

    ``path`` is percent-decoded text *below* ``root_path`` (the stage or base path strum
    stripped, which the app needs to build URLs that work through the gateway). ``raw_path``
    is the percent-encoded bytes of the full path (root path included) when the source knows
    them. ``query_string`` is the percent-encoded query text without ``?``. ``headers`` holds
    lower-case names, one entry per value, so repeated headers survive.
    """

    __slots__ = (
        "body",
        "client",
        "context",
        "event",
        "headers",
        "method",
        "path",
        "query_string",
        "raw_path",
        "root_path",
        "scheme",
        "server",
    )

    def __init__(
        self,
        *,
        method: str,
        path: str,
        query_string: str,
        headers: list[tuple[str, str]],
        body: bytes,
        event: dict[str, Any],
        root_path: str = "",
        raw_path: bytes | None = None,
        source_ip: str | None = None,
        default_host: str = "localhost",
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers
        self.body = body
        self.event = event
        self.root_path = root_path
        self.raw_path = raw_path
        self.context: Any = None
        host = None
        proto = None
        port = None
        forwarded_for = None
        for name, value in headers:
            if name == "host":
                host = value
            elif name == "x-forwarded-proto":
                proto = value
            elif name == "x-forwarded-port":
                port = value
            elif name == "x-forwarded-for":
                forwarded_for = value
        self.scheme = proto.split(",", 1)[0].strip() if proto else "https"
        if host is None:
            host = default_host
        if port is not None and port.strip().isdigit():
            port_number = int(port)
            host = host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host
        elif ":" in host and not host.endswith("]"):
            host, _, port_text = host.rpartition(":")
            port_number = int(port_text) if port_text.isdigit() else 443
        else:
            port_number = 443 if self.scheme == "https" else 80
        self.server = (host, port_number)
        if source_ip is None and forwarded_for:
            # Load balancers append the address they saw: the right-most entry is the one
            # no client could forge.
            source_ip = forwarded_for.rsplit(",", 1)[-1].strip()
        self.client = (source_ip, 0) if source_ip else None


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
