"""Application Load Balancer target groups with a Lambda target.

An ALB sends either single-value ``headers`` / ``queryStringParameters`` or, when the
target group enables multi-value headers, ``multiValueHeaders`` /
``multiValueQueryStringParameters`` - and rejects a response that is not in the same mode.
ALB does not decode the query string (values arrive exactly as the client sent them), and
health checks arrive with no headers at all.
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest, split_path_prefix
from strum.adapter.sources._common import (
    Headers,
    cookie_case_variants,
    decode_body,
    group_headers,
    join_headers,
    join_raw_query,
    reason_phrase,
    text_field,
    unquote_path,
)

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

NAME = "Application Load Balancer"


def infer(event: Mapping[str, Any]) -> bool:
    """ALB events carry ``requestContext.elb``."""
    context = event.get("requestContext")
    return isinstance(context, dict) and "elb" in context and "httpMethod" in event


def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
    """Build the request, keeping the query string percent-encoded as ALB delivered it."""
    multi = event.get("multiValueHeaders") if "multiValueHeaders" in event else None
    raw_path_text = text_field(event, "path")
    path = unquote_path(raw_path_text)
    root = ""
    if base_path:
        split = split_path_prefix(path, base_path)
        if split:
            root, path = split
    return HttpRequest(
        text_field(event, "httpMethod"),
        path,
        join_raw_query(
            event.get("queryStringParameters"), event.get("multiValueQueryStringParameters")
        ),
        decode_body(event.get("body"), event.get("isBase64Encoded")),
        event,
        None if multi is not None else event.get("headers"),
        multi,
        raw_path=raw_path_text,
        root_path=root,
    )


def respond(
    status: int, reason: str, headers: Headers, body: str, is_base64: bool, request: HttpRequest
) -> dict[str, Any]:
    """Answer in the mode the request came in; ALB requires ``statusDescription``."""
    response: dict[str, Any] = {
        "statusCode": status,
        "statusDescription": f"{status} {reason or reason_phrase(status)}".rstrip(),
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if "multiValueHeaders" in request.event:
        response["multiValueHeaders"] = group_headers(headers)
    else:
        joined, cookies = join_headers(headers)
        if cookies:
            joined.update(cookie_case_variants(cookies))
        response["headers"] = joined
    return response
