"""API Gateway REST APIs, Lambda proxy integration (payload format 1.0).

Also HTTP APIs configured for payload format 1.0, which send the same shape with
``"version": "1.0"``. Quirks that matter here:

- REST APIs deliver ``path`` still percent-encoded; HTTP APIs deliver it decoded.
- Query parameter values arrive decoded, so strum encodes them again for the app.
- On the ``execute-api`` domain ``path`` lacks the stage that ``requestContext.path`` has
  (``/hello`` vs ``/prod/hello``); the difference is the app's root path, so the URLs it
  builds keep working. Custom domains put their base-path mapping inside ``path``; the
  handler's ``base_path`` strips it.
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest, split_path_prefix
from strum.adapter.sources._common import (
    Headers,
    decode_body,
    encode_query_map,
    group_headers,
    text_field,
    unquote_path,
)

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

NAME = "API Gateway REST API (payload 1.0)"


def infer(event: Mapping[str, Any]) -> bool:
    """REST events carry ``httpMethod`` and a ``requestContext`` without ``elb``."""
    if "httpMethod" not in event or "path" not in event:
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and "elb" not in context


def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
    """Build the request from a payload 1.0 event."""
    multi = event.get("multiValueHeaders") or None
    context = event.get("requestContext")
    if type(context) is not dict:
        context = {}
    event_path = text_field(event, "path")
    raw: str | None
    if event.get("version") == "1.0":  # an HTTP API: the path is already decoded
        path, raw = event_path, None
    else:
        path, raw = unquote_path(event_path), event_path
    root = ""
    # requestContext.path is the path as the client sent it, stage included.
    full_path = context.get("path")
    if full_path != event_path and type(full_path) is str and full_path.endswith(event_path):
        # event_path starts with "/", so what precedes it ends at a segment boundary.
        stage_prefix = full_path[: len(full_path) - len(event_path)].rstrip("/")
        if stage_prefix.startswith("/"):
            root = stage_prefix
            if raw is not None:
                raw = stage_prefix + raw
    if base_path:
        split = split_path_prefix(path, base_path)
        if split:
            root, path = root + split[0], split[1]
    identity = context.get("identity")
    return HttpRequest(
        text_field(event, "httpMethod"),
        path,
        encode_query_map(
            event.get("queryStringParameters"), event.get("multiValueQueryStringParameters")
        ),
        decode_body(event.get("body"), event.get("isBase64Encoded")),
        event,
        None if multi else event.get("headers"),
        multi,
        root_path=root,
        raw_path=raw,
        source_ip=identity.get("sourceIp") if type(identity) is dict else None,
        default_host=context.get("domainName") or "localhost",
    )


def respond(
    status: int, reason: str, headers: Headers, body: str, is_base64: bool, request: HttpRequest
) -> dict[str, Any]:
    """REST APIs accept ``multiValueHeaders``, so every repeated header survives."""
    return {
        "statusCode": status,
        "multiValueHeaders": group_headers(headers),
        "body": body,
        "isBase64Encoded": is_base64,
    }
