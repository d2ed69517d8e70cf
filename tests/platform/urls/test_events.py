"""Function URL translation, sans I/O: rebuilding the recorded AWS events exactly."""

from __future__ import annotations

import base64
import json

import pytest

from strum.platform.urls import events as urlevents
from strum.platform.urls.events import MalformedResponse, UrlContext, UrlRequest
from tests.conftest import load_event

FIXTURE_URL_ID = "x4k7w2q9m5n8b3c6d1f0g2h4j6l8p3r5"


def replay(name: str, *, auth_type: str = "NONE") -> tuple[dict, dict]:
    """The request a recorded event came from, translated again; (expected, built)."""
    expected = load_event(name)
    context = expected["requestContext"]
    http = context["http"]
    headers = list(expected["headers"].items())
    body = b""
    if "body" in expected:
        raw = expected["body"]
        body = base64.b64decode(raw) if expected["isBase64Encoded"] else raw.encode()
    query = expected["rawQueryString"]
    request = UrlRequest(
        method=http["method"],
        raw_path=expected["rawPath"] + (f"?{query}" if query else ""),
        headers=headers,
        body=body,
        source_ip=http["sourceIp"],
        protocol=http["protocol"],
    )
    caller = context.get("authorizer", {}).get("iam")
    url_context = UrlContext(
        url_id=FIXTURE_URL_ID,
        region="us-east-1",
        account_id="123456789012",
        auth_type=auth_type,
        caller=caller,
    )
    built = urlevents.build_event(
        request, url_context, context["requestId"], now=context["timeEpoch"] / 1000
    )
    return expected, built


@pytest.mark.parametrize(
    ("fixture", "auth_type"),
    [
        ("function-url-get", "NONE"),
        ("function-url-binary-upload", "NONE"),
        ("function-url-post-json", "AWS_IAM"),
    ],
)
def test_recorded_events_are_rebuilt_exactly(fixture, auth_type):
    expected, built = replay(fixture, auth_type=auth_type)
    assert built == expected
    # Key order too: some consumers serialise the event and compare text.
    assert list(built) == list(expected)


def test_cookies_from_several_headers_and_repeated_headers_joined():
    request = UrlRequest(
        method="GET",
        raw_path="/a%2Fb/caf%C3%A9?x=1&x=2&empty=&flag",
        headers=[
            ("Cookie", "a=1; b=2"),
            ("X-Tag", "one"),
            ("cookie", "c=3"),
            ("x-tag", "two"),
            ("Host", "127.0.0.1:9000"),
        ],
        body=b"",
        source_ip="127.0.0.1",
    )
    context = UrlContext(url_id="abc", region="eu-west-1", account_id="1")
    event = urlevents.build_event(request, context, "rid", now=0)
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert event["headers"]["cookie"] == "a=1; b=2; c=3"
    assert event["headers"]["x-tag"] == "one,two"
    assert event["rawPath"] == "/a%2Fb/caf%C3%A9"
    assert event["requestContext"]["http"]["path"] == "/a/b/café"
    assert event["queryStringParameters"] == {"x": "1,2", "empty": "", "flag": ""}
    assert event["requestContext"]["domainName"] == "abc.lambda-url.eu-west-1.on.aws"
    assert event["requestContext"]["time"] == "01/Jan/1970:00:00:00 +0000"
    assert "body" not in event and event["isBase64Encoded"] is False
    assert "queryStringParameters" not in urlevents.build_event(
        UrlRequest("GET", "/", [], b"", "127.0.0.1"), context, "rid"
    )


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/octet-stream", False),
        (None, False),
    ],
)
def test_which_bodies_are_base64(content_type, text):
    headers = [("content-type", content_type)] if content_type else []
    request = UrlRequest("POST", "/", headers, b"a=1", "127.0.0.1")
    event = urlevents.build_event(request, UrlContext("abc", "us-east-1", "1"), "rid")
    assert event["isBase64Encoded"] is not text
    assert event["body"] == ("a=1" if text else base64.b64encode(b"a=1").decode())


def test_text_content_type_with_invalid_utf8_is_base64():
    request = UrlRequest("POST", "/", [("content-type", "text/plain")], b"\xff\xfe", "::1")
    event = urlevents.build_event(request, UrlContext("abc", "us-east-1", "1"), "rid")
    assert event["isBase64Encoded"] is True


# -- responses: the examples of AWS's "Invoking Lambda function URLs" page --------------------


def test_a_string_result_is_inferred_as_json():
    response = urlevents.interpret_result(json.dumps("Hello, world!").encode())
    assert response.status == 200
    assert response.headers == [("Content-Type", "application/json")]
    assert response.body == b'"Hello, world!"'  # 15 bytes, quotes included, as AWS shows


def test_an_object_without_status_code_is_the_body():
    payload = json.dumps({"message": "Hello, world!"}).encode()
    response = urlevents.interpret_result(payload)
    assert (response.status, response.body) == (200, payload)


def test_a_custom_response_with_cookies():
    response = urlevents.interpret_result(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "application/json", "My-Custom-Header": "v"},
                "body": json.dumps({"message": "Hello, world!"}),
                "cookies": ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=V2"],
                "isBase64Encoded": False,
            }
        ).encode()
    )
    assert response.status == 201
    assert ("My-Custom-Header", "v") in response.headers
    assert [v for n, v in response.headers if n == "Set-Cookie"] == [
        "Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT",
        "Cookie_2=V2",
    ]
    assert json.loads(response.body) == {"message": "Hello, world!"}


def test_base64_body_and_default_content_type():
    body = base64.b64encode(b"\x89PNG\r\n").decode()
    response = urlevents.interpret_result(
        json.dumps({"statusCode": 200, "body": body, "isBase64Encoded": True}).encode()
    )
    assert response.body == b"\x89PNG\r\n"
    assert ("Content-Type", "application/json") in response.headers


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        json.dumps({"statusCode": "teapot"}).encode(),
        json.dumps({"statusCode": 99}).encode(),
        json.dumps({"statusCode": 200, "headers": ["x"]}).encode(),
        json.dumps({"statusCode": 200, "headers": {"a": {"b": 1}}}).encode(),
        json.dumps({"statusCode": 200, "headers": {"a": "x\r\nInjected: 1"}}).encode(),
        json.dumps({"statusCode": 200, "cookies": "a=1"}).encode(),
        json.dumps({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}).encode(),
    ],
)
def test_malformed_results_are_refused(payload):
    with pytest.raises(MalformedResponse):
        urlevents.interpret_result(payload)


def test_streaming_prelude():
    assert urlevents.split_prelude(b'{"statusCode": 201') is None
    prelude, rest = urlevents.split_prelude(b'{"statusCode": 201}' + b"\0" * 8 + b"body")
    assert prelude == {"statusCode": 201} and rest == b"body"
    with pytest.raises(MalformedResponse):
        urlevents.split_prelude(b"[1]" + b"\0" * 8)


# -- CORS -------------------------------------------------------------------------------------

CORS = {
    "AllowOrigins": ["https://app.example.com"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["x-custom"],
    "ExposeHeaders": ["x-total"],
    "MaxAge": 300,
    "AllowCredentials": True,
}


def test_preflight_is_answered_for_allowed_origins_only():
    preflight = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    answer = urlevents.cors_preflight(CORS, preflight)
    assert answer is not None and answer.status == 200
    headers = dict(answer.headers)
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert headers["Access-Control-Allow-Headers"] == "x-custom"
    assert headers["Access-Control-Max-Age"] == "300"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    stranger = urlevents.cors_preflight(CORS, {**preflight, "origin": "https://evil.test"})
    assert stranger is not None and stranger.headers == []
    assert urlevents.cors_preflight({}, preflight) is None
    assert urlevents.cors_preflight(CORS, {"origin": "https://app.example.com"}) is None


def test_configured_cors_headers_win_over_the_functions():
    applied = dict(
        urlevents.apply_cors(
            {"AllowOrigins": ["*"]},
            {"origin": "https://a.test"},
            [("access-control-allow-origin", "https://other.test"), ("X-Kept", "1")],
        )
    )
    assert applied == {"X-Kept": "1", "Access-Control-Allow-Origin": "*", "Vary": "Origin"}
