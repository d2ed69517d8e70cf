"""Build Lambda HTTP events the way each gateway does, and read responses back.

``GatewayRequest`` is one HTTP request as a client sends it; ``to_event`` renders it as the
event a given gateway would deliver (following AWS's documented shapes and the quirks noted
in ``tests/events/README.md``); ``from_response`` turns the handler's answer back into
``(status, headers, body)`` as the client would receive it. Tests use these to send the same
request through every event kind.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any
from urllib.parse import quote

KINDS = (
    "rest-v1",
    "http-v1",
    "http-v2",
    "function-url",
    "alb-multi",
    "alb-single",
    "lattice-v1",
    "lattice-v2",
)


@dataclasses.dataclass
class GatewayRequest:
    method: str = "GET"
    path: str = "/"  # decoded
    query: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # decoded
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    cookies: list[str] = dataclasses.field(default_factory=list)  # "name=value"
    body: bytes = b""
    binary: bool = False  # deliver the body base64-encoded
    host: str = "example.test"
    stage: str | None = None  # named stage on the execute-api domain
    source_ip: str = "203.0.113.9"

    def encoded_path(self) -> str:
        return quote(self.path, safe="/:@!$&'()*+,;=~")

    def encoded_query(self) -> str:
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.query)

    def all_headers(self) -> list[tuple[str, str]]:
        headers = [("Host", self.host), *self.headers]
        if self.cookies:
            headers.append(("Cookie", "; ".join(self.cookies)))
        if self.body and not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(self.body))))
        return headers


# API Gateway and Function URLs add these to every request.
_FORWARDED = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Port", "443")]


def _body_fields(request: GatewayRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None if request.method in ("GET", "HEAD") else "", False
    if request.binary:
        return base64.b64encode(request.body).decode(), True
    return request.body.decode("utf-8"), False


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _single_last(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)


def _comma_joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for key, value in pairs:
        key = key.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def to_event(kind: str, request: GatewayRequest) -> dict[str, Any]:
    """The event ``kind`` of gateway delivers for ``request``."""
    body, is_b64 = _body_fields(request)
    if kind in ("rest-v1", "http-v1"):
        headers = [*request.all_headers(), *_FORWARDED]
        host = "abc123.execute-api.eu-west-1.amazonaws.com" if request.stage else request.host
        if kind == "rest-v1":  # REST keeps the path encoded; the stage is only in the context
            path = request.encoded_path()
            context_path = f"/{request.stage}{path}" if request.stage else path
        else:  # an HTTP API on payload 1.0 decodes it
            path = request.path
            context_path = path
        event: dict[str, Any] = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": request.method,
            "headers": _single_last(headers),
            "multiValueHeaders": _multi(headers),
            "queryStringParameters": _single_last(request.query) or None,
            "multiValueQueryStringParameters": _multi(request.query) or None,
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/{proxy+}",
                "httpMethod": request.method,
                "path": context_path,
                "stage": request.stage or "$default",
                "domainName": host,
                "apiId": "abc123",
                "accountId": "123456789012",
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "identity": {"sourceIp": request.source_ip, "userAgent": "test"},
            },
            "body": body,
            "isBase64Encoded": is_b64,
        }
        if kind == "http-v1":
            event["version"] = "1.0"
        return event
    if kind in ("http-v2", "function-url"):
        headers = [*request.all_headers(), *_FORWARDED]
        if kind == "http-v2":  # Function URLs keep the Cookie header beside `cookies`
            headers = [(k, v) for k, v in headers if k.lower() != "cookie"]
        if kind == "function-url":
            domain = "abcdefghij.lambda-url.eu-west-1.on.aws"
            raw_path = request.encoded_path()
            stage = "$default"
        else:
            domain = "abc123.execute-api.eu-west-1.amazonaws.com" if request.stage else request.host
            stage = request.stage or "$default"
            raw_path = (f"/{request.stage}" if request.stage else "") + request.path
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": request.encoded_query(),
            "headers": _comma_joined(headers),
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc123",
                "domainName": domain,
                "domainPrefix": domain.split(".")[0],
                "http": {
                    "method": request.method,
                    "path": raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": "test",
                },
                "requestId": "JKJaXmPLvHcESHA=",
                "routeKey": "$default",
                "stage": stage,
                "time": "10/Mar/2020:05:16:23 +0000",
                "timeEpoch": 1583817383220,
            },
            "isBase64Encoded": is_b64,
        }
        if request.cookies:
            event["cookies"] = list(request.cookies)
        if body is not None:
            event["body"] = body
        if request.query:
            event["queryStringParameters"] = dict(request.query)
        return event
    if kind in ("alb-multi", "alb-single"):
        headers = [(k.lower(), v) for k, v in request.all_headers()]
        headers.append(("x-forwarded-for", request.source_ip))
        headers.append(("x-forwarded-proto", "https"))
        headers.append(("x-forwarded-port", "443"))
        # ALB leaves the query percent-encoded.
        query = [(quote(k, safe=""), quote(v, safe="")) for k, v in request.query]
        event = {
            "requestContext": {
                "elb": {
                    "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                    "targetgroup/strum/0123456789abcdef"
                }
            },
            "httpMethod": request.method,
            "path": request.encoded_path(),
            "body": body or "",
            "isBase64Encoded": is_b64,
        }
        if kind == "alb-multi":
            event["multiValueHeaders"] = _multi(headers)
            event["multiValueQueryStringParameters"] = _multi(query)
        else:
            event["headers"] = _single_last(headers)
            event["queryStringParameters"] = _single_last(query)
        return event
    if kind == "lattice-v1":
        headers = [(k.lower(), v) for k, v in request.all_headers()]
        headers.append(("x-forwarded-for", request.source_ip))
        return {
            "raw_path": request.encoded_path()
            + (f"?{request.encoded_query()}" if request.query else ""),
            "method": request.method,
            "headers": _comma_joined(headers),
            "query_string_parameters": _single_last(request.query),
            "body": body or "",
            "is_base64_encoded": is_b64,
        }
    if kind == "lattice-v2":
        headers = [(k.lower(), v) for k, v in request.all_headers()]
        headers.append(("x-forwarded-for", request.source_ip))
        return {
            "version": "2.0",
            "path": request.encoded_path(),
            "method": request.method,
            "headers": _multi(headers),
            "queryStringParameters": _multi(request.query),
            "body": body or "",
            "isBase64Encoded": is_b64,
            "requestContext": {
                "serviceNetworkArn": "arn:aws:vpc-lattice:eu-west-1:123456789012:"
                "servicenetwork/sn-0bf3f2882e9cc805a",
                "serviceArn": "arn:aws:vpc-lattice:eu-west-1:123456789012:"
                "service/svc-0a40eebed65f8d69c",
                "targetGroupArn": "arn:aws:vpc-lattice:eu-west-1:123456789012:"
                "targetgroup/tg-6d0ecf831eec9f09",
                "identity": {"sourceVpcArn": "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0b8"},
                "region": "eu-west-1",
                "timeEpoch": "1690497599177430",
            },
        }
    raise ValueError(kind)


@dataclasses.dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]  # lower-case names, one entry per value
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None

    def cookies(self) -> list[str]:
        return [v for k, v in self.headers if k == "set-cookie"]


def from_response(kind: str, response: dict[str, Any]) -> GatewayResponse:
    """What the client receives for ``response``, checking the gateway's format rules."""
    allowed = {"statusCode", "body", "isBase64Encoded"}
    headers: list[tuple[str, str]] = []
    if kind in ("rest-v1", "http-v1"):
        allowed |= {"multiValueHeaders", "headers"}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers.extend((name.lower(), v) for v in values)
    elif kind in ("http-v2", "function-url"):
        allowed |= {"headers", "cookies"}
        for name, value in (response.get("headers") or {}).items():
            assert isinstance(value, str)
            headers.append((name.lower(), value))
        headers.extend(("set-cookie", c) for c in response.get("cookies") or ())
    elif kind == "alb-multi":
        allowed |= {"multiValueHeaders", "statusDescription"}
        assert "headers" not in response, "ALB multi-value mode must answer with multiValueHeaders"
        for name, values in response["multiValueHeaders"].items():
            headers.extend((name.lower(), v) for v in values)
    else:  # single-value maps
        allowed |= {"headers", "statusDescription"}
        assert "multiValueHeaders" not in response
        for name, value in response["headers"].items():
            assert isinstance(value, str)
            headers.append((name.lower(), value))
    assert set(response) <= allowed, f"unexpected keys for {kind}: {set(response) - allowed}"
    assert isinstance(response["statusCode"], int)
    if "statusDescription" in response:
        assert response["statusDescription"].startswith(str(response["statusCode"]))
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
    return GatewayResponse(response["statusCode"], headers, data)
