"""Function URLs, sans I/O: an HTTP request -> the payload 2.0 event, a result -> a response.

Pure functions over plain data; ``strum.platform.urls`` adds the sockets. The shapes follow
AWS's *Invoking Lambda function URLs* page and live captures (tests/events/README.md):

- ``rawPath`` is the path as sent, still percent-encoded; ``requestContext.http.path`` is
  its decoded form. ``rawQueryString`` is the query as sent; ``queryStringParameters``
  holds decoded values, repeated keys comma-joined, and is absent without a query.
- Header names are lower-cased and repeated headers comma-joined. Cookies arrive both as
  the ``cookies`` list and, as in live captures, in the ``cookie`` header.
- A body whose content type is not text is base64-encoded; no body means no ``body`` key.
- ``requestContext.accountId`` is ``"anonymous"`` for ``AuthType NONE``.
- A result without ``statusCode`` is AWS's "inferred" response: status 200,
  ``content-type: application/json``, the function's JSON output as the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

# Content types Lambda passes as text; everything else is base64-encoded (as in captures:
# JSON arrives as text, multipart and urlencoded forms as base64).
_TEXT_MARKERS = ("text/", "json", "xml", "javascript")

# What AWS answers when the function fails or returns something it cannot map.
BAD_GATEWAY_BODY = b"Internal Server Error"

# The http-integration content type a streaming function uses to send status and headers.
HTTP_INTEGRATION_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8


def url_id(account_id: str, key: str) -> str:
    """The 32-character id of a URL config, stable across restarts (AWS derives it too)."""
    return hashlib.sha256(f"{account_id}:{key}".encode()).hexdigest()[:32]


def url_domain(identifier: str, region: str) -> str:
    """The ``<url-id>.lambda-url.<region>.on.aws`` name AWS gives a function URL.

    The event carries it as ``requestContext.domainName`` whatever address the client used:
    adapters and APM agents tell a Function URL from an HTTP API by this name, and the
    difference matters (a Function URL's ``rawPath`` is still percent-encoded).
    """
    return f"{identifier}.lambda-url.{region}.on.aws"


@dataclass(frozen=True)
class UrlRequest:
    """One HTTP request as it reached a URL listener, before any interpretation."""

    method: str
    raw_path: str  # path and query exactly as sent ("/a%20b?x=1")
    headers: Iterable[tuple[str, str]]  # in arrival order, repeats kept
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class UrlContext:
    """What the platform knows about the URL config a request arrived on."""

    url_id: str
    region: str
    account_id: str  # the function owner's account
    auth_type: str = "NONE"
    caller: Mapping[str, Any] | None = None  # requestContext.authorizer.iam, when signed


def build_event(
    request: UrlRequest, context: UrlContext, request_id: str, now: float | None = None
) -> dict[str, Any]:
    """The payload 2.0 event AWS builds for ``request``."""
    now = time.time() if now is None else now
    path, _, query = request.raw_path.partition("?")
    path = path or "/"
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(crumb.strip() for crumb in value.split(";") if crumb.strip())
            # An HTTP/2 client may split cookies over several fields; RFC 9113 joins them
            # with "; ", which keeps the header parseable as one Cookie header.
            headers[lower] = f"{headers[lower]}; {value}" if lower in headers else value
        elif lower in headers:
            headers[lower] = f"{headers[lower]},{value}"
        else:
            headers[lower] = value
    domain = url_domain(context.url_id, context.region)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    parameters = query_parameters(query)
    if parameters is not None:
        event["queryStringParameters"] = parameters
    request_context: dict[str, Any] = {
        "accountId": "anonymous" if context.auth_type == "NONE" else context.account_id,
        "apiId": context.url_id,
    }
    if context.auth_type != "NONE":
        request_context["authentication"] = None
        request_context["authorizer"] = {"iam": dict(context.caller or {})}
    request_context.update(
        {
            "domainName": domain,
            "domainPrefix": context.url_id,
            "http": {
                "method": request.method,
                "path": unquote(path, errors="replace"),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }
    )
    event["requestContext"] = request_context
    if request.body:
        if is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def query_parameters(query: str) -> dict[str, str] | None:
    """Decoded query parameters, repeated keys comma-joined; None without a query."""
    if not query:
        return None
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def is_text(content_type: str | None) -> bool:
    """Whether Lambda passes a body of this content type as text (not base64)."""
    if not content_type:
        return False
    lowered = content_type.lower()
    return any(marker in lowered for marker in _TEXT_MARKERS)


@dataclass
class UrlResponse:
    """An HTTP response to send: status, headers (repeats allowed) and the body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class MalformedResponse(ValueError):
    """The function's result cannot be mapped to an HTTP response (AWS answers 502)."""


def bad_gateway() -> UrlResponse:
    """AWS's answer to a function error or a response it cannot map."""
    return UrlResponse(502, [("Content-Type", "application/json")], BAD_GATEWAY_BODY)


def interpret_result(payload: bytes) -> UrlResponse:
    """Map a function's buffered output to the HTTP response, per AWS's rules.

    A JSON object with ``statusCode`` is a response document (``headers``, ``cookies``,
    ``body``, ``isBase64Encoded``); any other valid JSON is returned as-is with status 200
    and ``application/json``. Raises ``MalformedResponse`` for what AWS answers 502 to.
    """
    try:
        document = json.loads(payload) if payload.strip() else None
    except ValueError as exc:
        raise MalformedResponse(
            f"the function returned something that is not JSON: {exc}"
        ) from None
    if not isinstance(document, dict) or "statusCode" not in document:
        return UrlResponse(200, [("Content-Type", "application/json")], payload)
    return response_from_document(document, body_required=True)


def response_from_document(document: Mapping[str, Any], *, body_required: bool) -> UrlResponse:
    """A response from ``{statusCode, headers, cookies, body, isBase64Encoded}``.

    Streaming preludes carry no body (``body_required=False``): it follows the prelude.
    """
    status = document.get("statusCode", 200)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an HTTP status code, not {status!r}")
    headers: list[tuple[str, str]] = []
    raw_headers = document.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise MalformedResponse("headers must be an object of strings")
    for name, value in raw_headers.items():
        if isinstance(value, (dict, list)) or value is None:
            raise MalformedResponse(f"header {name!r} must be a string")
        text = value if isinstance(value, str) else json.dumps(value)
        if "\n" in text or "\r" in text or "\n" in name or "\r" in name:
            raise MalformedResponse(f"header {name!r} contains a line break")
        headers.append((str(name), text))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    cookies = document.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponse("cookies must be a list of strings")
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    body = b""
    if body_required:
        raw_body = document.get("body")
        if raw_body is None:
            body = b""
        elif isinstance(raw_body, str):
            if document.get("isBase64Encoded") is True:
                try:
                    body = base64.b64decode(raw_body, validate=True)
                except binascii.Error as exc:
                    raise MalformedResponse(f"the body is not valid base64: {exc}") from None
            else:
                body = raw_body.encode("utf-8")
        else:
            # A structured body is serialised, as AWS does for the inferred format.
            body = json.dumps(raw_body).encode("utf-8")
    return UrlResponse(status, headers, body)


def split_prelude(buffer: bytes) -> tuple[dict[str, Any], bytes] | None:
    """The http-integration prelude and what follows it, or None until the delimiter came."""
    index = buffer.find(PRELUDE_DELIMITER)
    if index < 0:
        return None
    try:
        prelude = json.loads(buffer[:index] or b"{}")
    except ValueError as exc:
        raise MalformedResponse(f"the streaming prelude is not JSON: {exc}") from None
    if not isinstance(prelude, dict):
        raise MalformedResponse("the streaming prelude must be a JSON object")
    return prelude, buffer[index + len(PRELUDE_DELIMITER) :]


# -- CORS ---------------------------------------------------------------------------------


def cors_preflight(cors: Mapping[str, Any], headers: Mapping[str, str]) -> UrlResponse | None:
    """The answer Lambda gives a CORS preflight itself, or None when it is not one.

    With CORS configured, an ``OPTIONS`` request carrying ``Origin`` and
    ``Access-Control-Request-Method`` never reaches the function.
    """
    if not cors or "origin" not in headers or "access-control-request-method" not in headers:
        return None
    response = UrlResponse(200)
    origin = _allowed_origin(cors, headers["origin"])
    if origin is None:
        return response
    response.headers.append(("Access-Control-Allow-Origin", origin))
    methods = cors.get("AllowMethods") or []
    if methods:
        response.headers.append(("Access-Control-Allow-Methods", ",".join(methods)))
    allowed_headers = cors.get("AllowHeaders") or []
    if allowed_headers:
        response.headers.append(("Access-Control-Allow-Headers", ",".join(allowed_headers)))
    if cors.get("AllowCredentials"):
        response.headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("MaxAge") is not None:
        response.headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    response.headers.append(("Vary", "Origin"))
    return response


def apply_cors(
    cors: Mapping[str, Any], request_headers: Mapping[str, str], response: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``response`` headers with the configured CORS headers; configured ones win."""
    if not cors or "origin" not in request_headers:
        return response
    origin = _allowed_origin(cors, request_headers["origin"])
    if origin is None:
        return response
    kept = [(n, v) for n, v in response if not n.lower().startswith("access-control-")]
    kept.append(("Access-Control-Allow-Origin", origin))
    if cors.get("AllowCredentials"):
        kept.append(("Access-Control-Allow-Credentials", "true"))
    exposed = cors.get("ExposeHeaders") or []
    if exposed:
        kept.append(("Access-Control-Expose-Headers", ",".join(exposed)))
    kept.append(("Vary", "Origin"))
    return kept


def _allowed_origin(cors: Mapping[str, Any], origin: str) -> str | None:
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        # A wildcard cannot be combined with credentials in browsers: echo the origin then.
        return origin if cors.get("AllowCredentials") else "*"
    lowered = origin.lower()
    return origin if any(lowered == str(o).lower() for o in origins) else None
