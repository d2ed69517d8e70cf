"""Framework-free apps that report exactly what they received.

The WSGI app answers with a JSON description of its environ; the ASGI app with one of its
scope; both return the request body in the JSON and can be told to answer with a given
status, headers and body through request headers, for round-trip tests.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def _reply_from_headers(
    get: Any, received: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Requests may ask for a reply: x-reply-status, x-reply-headers (JSON), x-reply-body (b64)."""
    status = int(get("x-reply-status") or 200)
    headers_json = get("x-reply-headers")
    body_b64 = get("x-reply-body")
    if headers_json is None and body_b64 is None:
        return status, [("Content-Type", "application/json")], json.dumps(received).encode()
    headers = [tuple(pair) for pair in json.loads(headers_json or "[]")]
    return status, headers, base64.b64decode(body_b64 or "")  # type: ignore[return-value]


def wsgi_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    received = {
        key: value
        for key, value in environ.items()
        if isinstance(value, str) and (key.isupper() or key == "wsgi.url_scheme")
    }
    received["body"] = base64.b64encode(body).decode()
    received["has_event"] = isinstance(environ.get("lambda.event"), dict)
    received["context"] = repr(environ.get("lambda.context"))

    def get(name: str) -> str | None:
        return environ.get("HTTP_" + name.upper().replace("-", "_"))

    status, headers, reply = _reply_from_headers(get, received)
    start_response(f"{status} Whatever", headers)
    return [reply]


async def asgi_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan here")
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    received = {
        key: value for key, value in scope.items() if key not in ("aws.event", "aws.context")
    }
    received["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]]
    received["raw_path"] = scope["raw_path"].decode("latin-1") if scope["raw_path"] else None
    received["query_string"] = scope["query_string"].decode("latin-1")
    received["body"] = base64.b64encode(b"".join(chunks)).decode()
    received["has_event"] = isinstance(scope.get("aws.event"), dict)
    received["context"] = repr(scope.get("aws.context"))
    lookup = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    status, headers, reply = _reply_from_headers(lookup.get, received)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": reply})
