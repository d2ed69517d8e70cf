"""API Gateway HTTP APIs (payload format 2.0).

Quirks that matter here:

- ``rawPath`` arrives percent-*decoded* (despite its name), so ``%2F`` is already ``/``;
  strum re-encodes it for ``raw_path``.
- ``rawQueryString`` is the query as sent; repeated request headers arrive comma-joined and
  ``Cookie`` headers arrive as the ``cookies`` list.
- A named stage (not ``$default``) is the first segment of ``rawPath``; strum moves it into
  the app's root path.
- Responses carry ``Set-Cookie`` values in ``cookies``; other repeated headers are joined.
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest, split_path_prefix
from strum.adapter.sources._common import (
    Headers,
    decode_body,
    join_headers,
    text_field,
    unquote_path,
)

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

NAME = "API Gateway HTTP API (payload 2.0)"


def infer(event: Mapping[str, Any]) -> bool:
    """Payload 2.0 has ``rawPath`` and ``requestContext.http``; Lattice v2 has neither.

    Function URLs share the shape; their ``lambda-url`` domain sets them apart. Sources
    must exclude each other, because the handler re-checks the last source first.
    """
    return is_payload_v2(event) and not is_function_url(event)


def is_payload_v2(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` has the payload 2.0 shape (HTTP API or Function URL)."""
    if event.get("version") != "2.0" or "rawPath" not in event:
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and "http" in context


def is_function_url(event: Mapping[str, Any]) -> bool:
    """Whether a payload 2.0 event came through a Function URL."""
    domain = event["requestContext"].get("domainName")
    return isinstance(domain, str) and ".lambda-url." in domain


def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
    """Build the request from a payload 2.0 event whose path arrives decoded."""
    return parse_v2(event, base_path, path_is_encoded=False)


def parse_v2(event: dict[str, Any], base_path: str, *, path_is_encoded: bool) -> HttpRequest:
    """The payload 2.0 parser shared with Function URLs, which keep the path encoded."""
    context = event["requestContext"]
    http = context["http"]
    raw_path_text = text_field(event, "rawPath")
    raw: str | None
    if path_is_encoded:
        path, raw = unquote_path(raw_path_text), raw_path_text
    else:
        path, raw = raw_path_text, None
    root = ""
    # A named stage leads rawPath on the execute-api domain and, as reported, on custom
    # domains too; it is only stripped when it really is the first segment.
    stage = context.get("stage")
    if stage and stage != "$default":
        split = split_path_prefix(path, "/" + stage)
        if split:
            root, path = split
    if base_path:
        split = split_path_prefix(path, base_path)
        if split:
            root, path = root + split[0], split[1]
    return HttpRequest(
        text_field(http, "method"),
        path,
        event.get("rawQueryString") or "",
        decode_body(event.get("body"), event.get("isBase64Encoded")),
        event,
        event.get("headers"),
        # Function URLs send the original Cookie header *and* the cookies list; the list is
        # the documented field, so it wins and the bridges drop the header.
        cookies=event.get("cookies") or None,
        root_path=root,
        raw_path=raw,
        source_ip=http.get("sourceIp"),
        default_host=context.get("domainName") or "localhost",
    )


def respond(
    status: int, reason: str, headers: Headers, body: str, is_base64: bool, request: HttpRequest
) -> dict[str, Any]:
    """Payload 2.0 response: joined headers, ``Set-Cookie`` values in ``cookies``."""
    joined, cookies = join_headers(headers)
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": joined,
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if cookies:
        response["cookies"] = cookies
    return response
