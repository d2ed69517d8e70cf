"""Amazon VPC Lattice, both event formats.

Version 1 uses snake_case keys (``raw_path``, ``query_string_parameters``,
``is_base64_encoded``). Version 2 says ``"version": "2.0"`` like an HTTP API event but has
``path`` and ``method`` instead of ``rawPath`` and ``requestContext.http``, multi-value
``headers`` (lists), and a ``requestContext`` naming the service network and target
group - which is how it is told apart. Responses take single-value headers only.
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest, split_path_prefix
from strum.adapter.sources._common import (
    Headers,
    cookie_case_variants,
    decode_body,
    encode_query,
    join_headers,
    reason_phrase,
    text_field,
    unquote_path,
)

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def _query_pairs(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


def _request(
    event: dict[str, Any],
    base_path: str,
    *,
    method: str,
    raw_path_text: str,
    query: dict[str, Any] | None,
    headers: dict[str, Any] | None,
    body: bytes,
) -> HttpRequest:
    query_string = ""
    if "?" in raw_path_text:
        raw_path_text, _, query_string = raw_path_text.partition("?")
    if not query_string:
        pairs = _query_pairs(query)
        query_string = encode_query(pairs) if pairs else ""
    path = unquote_path(raw_path_text)
    root = ""
    if base_path:
        split = split_path_prefix(path, base_path)
        if split:
            root, path = split
    multi = None
    if headers and type(next(iter(headers.values()))) is list:
        headers, multi = None, headers
    return HttpRequest(
        method,
        path,
        query_string,
        body,
        event,
        headers,
        multi,
        raw_path=raw_path_text,
        root_path=root,
    )


def _respond(
    status: int, reason: str, headers: Headers, body: str, is_base64: bool, request: HttpRequest
) -> dict[str, Any]:
    joined, cookies = join_headers(headers)
    if cookies:
        joined.update(cookie_case_variants(cookies))
    return {
        "statusCode": status,
        "statusDescription": f"{status} {reason or reason_phrase(status)}".rstrip(),
        "headers": joined,
        "body": body,
        "isBase64Encoded": is_base64,
    }


class V1:
    """VPC Lattice event format version 1."""

    NAME = "VPC Lattice (v1)"
    respond = staticmethod(_respond)

    @staticmethod
    def infer(event: Mapping[str, Any]) -> bool:
        return "raw_path" in event and "method" in event

    @staticmethod
    def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
        return _request(
            event,
            base_path,
            method=text_field(event, "method"),
            raw_path_text=text_field(event, "raw_path"),
            query=event.get("query_string_parameters"),
            headers=event.get("headers"),
            body=decode_body(event.get("body"), event.get("is_base64_encoded")),
        )


class V2:
    """VPC Lattice event format version 2."""

    NAME = "VPC Lattice (v2)"
    respond = staticmethod(_respond)

    @staticmethod
    def infer(event: Mapping[str, Any]) -> bool:
        if event.get("version") != "2.0" or "rawPath" in event or "method" not in event:
            return False
        context = event.get("requestContext")
        return isinstance(context, dict) and (
            "serviceNetworkArn" in context or "targetGroupArn" in context
        )

    @staticmethod
    def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
        return _request(
            event,
            base_path,
            method=text_field(event, "method"),
            raw_path_text=text_field(event, "path"),
            query=event.get("queryStringParameters"),
            headers=event.get("headers"),
            body=decode_body(event.get("body"), event.get("isBase64Encoded")),
        )
