"""Recorded events through the adapter: what the app sees for each gateway's quirks."""

from __future__ import annotations

import base64
import json

import pytest

from strum import make_handler
from strum.errors import InvalidEvent, UnsupportedEvent
from tests.adapter.echo_apps import asgi_echo, wsgi_echo
from tests.conftest import EVENTS, load_event

HTTP_EVENTS = sorted(
    p.stem
    for p in EVENTS.glob("*.json")
    if p.stem.split("-")[0] in ("rest", "http", "function", "alb", "lattice")
)


def environ_for(name: str, **options) -> dict:
    response = make_handler(wsgi_echo, **options)(load_event(name), "ctx")
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def scope_for(name: str, **options) -> dict:
    handler = make_handler(asgi_echo, lifespan="off", **options)
    try:
        response = handler(load_event(name), "ctx")
    finally:
        handler.shutdown()
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_every_recorded_http_event_reaches_both_interfaces(name):
    environ = environ_for(name)
    scope = scope_for(name)
    assert environ["REQUEST_METHOD"] == scope["method"]
    assert environ["has_event"] and scope["has_event"]
    assert environ["context"] == scope["context"] == "'ctx'"
    assert environ["body"] == scope["body"]
    assert environ["QUERY_STRING"] == scope["query_string"]
    path_info = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
    assert scope["path"] == scope["root_path"] + path_info
    assert environ["SCRIPT_NAME"] == scope["root_path"]
    if environ["body"]:
        assert int(environ["CONTENT_LENGTH"]) == len(base64.b64decode(environ["body"]))


@pytest.mark.parametrize("name", sorted(p.stem for p in EVENTS.glob("*.json")))
def test_at_most_one_source_claims_each_event(name):
    # The handler re-checks the last source first, so sources must exclude each other.
    from strum.adapter.sources import SOURCES

    claims = [source.NAME for source in SOURCES if source.infer(load_event(name))]
    assert len(claims) == (1 if name in HTTP_EVENTS else 0), claims


def test_rest_v1_keeps_repeats_and_moves_the_stage_into_script_name():
    environ = environ_for("rest-v1-get")
    assert environ["SCRIPT_NAME"] == "/prod"
    assert environ["PATH_INFO"] == "/hello"
    assert environ["QUERY_STRING"] == "a=1&a=2&b=x"
    assert environ["HTTP_COOKIE"].count(";") >= 1  # two Cookie lines joined with "; "
    assert "," in environ["HTTP_ACCEPT"]  # both Accept lines kept
    assert (
        environ["REMOTE_ADDR"]
        == load_event("rest-v1-get")["requestContext"]["identity"]["sourceIp"]
    )
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["SERVER_PORT"] == "443"


def test_rest_v1_path_is_decoded_once_and_query_reencoded():
    environ = environ_for("rest-v1-encoded-path")
    assert environ["PATH_INFO"].encode("latin-1").decode() == "/files/a/b/café menu.txt"
    assert environ["SCRIPT_NAME"] == "/prod"
    scope = scope_for("rest-v1-encoded-path")
    assert scope["raw_path"] == "/prod/files/a%2Fb/caf%C3%A9%20menu.txt"
    from urllib.parse import parse_qsl

    assert dict(parse_qsl(environ["QUERY_STRING"])) == {
        "q": "c++ lang",
        "dir": "docs/api",
        "plus": "a+b",
    }


def test_rest_v1_custom_domain_base_path():
    environ = environ_for("rest-v1-custom-domain")
    assert environ["PATH_INFO"] == "/api/hello"
    environ = environ_for("rest-v1-custom-domain", base_path="/api")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/api", "/hello")
    scope = scope_for("rest-v1-custom-domain", base_path="api/")
    assert (scope["root_path"], scope["path"]) == ("/api", "/api/hello")


def test_rest_v1_console_test_invoke_with_nulls():
    environ = environ_for("rest-v1-no-query")
    assert environ["QUERY_STRING"] == ""
    assert not [key for key in environ if key.startswith("HTTP_")]
    assert environ["SERVER_NAME"]  # no Host header: falls back, never crashes


def test_http_v2_joins_cookies_and_keeps_the_raw_query():
    event = load_event("http-v2-get")
    environ = environ_for("http-v2-get")
    assert environ["HTTP_COOKIE"] == "; ".join(event["cookies"])
    assert environ["QUERY_STRING"] == event["rawQueryString"]
    assert environ["SCRIPT_NAME"] == ""


def test_http_v2_named_stage_becomes_root_path():
    environ = environ_for("http-v2-named-stage")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/dev", "/items/42")
    scope = scope_for("http-v2-named-stage")
    assert (scope["root_path"], scope["path"], scope["raw_path"]) == (
        "/dev",
        "/dev/items/42",
        "/dev/items/42",
    )


def test_http_v2_path_arrives_decoded_and_is_not_decoded_again():
    scope = scope_for("http-v2-unicode-path")
    assert scope["path"] == "/docs/café/世界"
    assert scope["raw_path"] == "/docs/caf%C3%A9/%E4%B8%96%E7%95%8C"
    environ = environ_for("http-v2-unicode-path")
    assert environ["PATH_INFO"] == "/docs/café/世界".encode().decode("latin-1")


def test_http_v2_base64_form_body_is_decoded():
    event = load_event("http-v2-post-form")
    environ = environ_for("http-v2-post-form")
    assert base64.b64decode(environ["body"]) == base64.b64decode(event["body"])
    assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"


def test_function_url_path_is_encoded_and_cookies_not_duplicated():
    event = load_event("function-url-get")
    environ = environ_for("function-url-get")
    assert environ["PATH_INFO"] == "/files/report 2024.pdf"
    assert environ["HTTP_COOKIE"] == "; ".join(event["cookies"])
    assert environ["SERVER_NAME"].endswith(".lambda-url.us-east-1.on.aws")


def test_function_url_binary_upload():
    event = load_event("function-url-binary-upload")
    environ = environ_for("function-url-binary-upload")
    assert environ["body"] == event["body"]
    assert environ["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")


def test_alb_leaves_the_query_encoded_and_reads_the_client_from_x_forwarded_for():
    event = load_event("alb-single-get")
    environ = environ_for("alb-single-get")
    expected = "&".join(f"{k}={v}" for k, v in event["queryStringParameters"].items())
    assert environ["QUERY_STRING"] == expected
    assert environ["PATH_INFO"] == "/search/café".encode().decode("latin-1")
    forwarded = event["headers"]["x-forwarded-for"]
    assert environ["REMOTE_ADDR"] == forwarded.split(",")[-1].strip()


def test_alb_multi_value_keeps_every_value():
    environ = environ_for("alb-multi-get")
    assert environ["QUERY_STRING"] == "a=1&a=2&b=x%2Fy&q=hello+world"
    assert "; " in environ["HTTP_COOKIE"]


def test_alb_health_check():
    environ = environ_for("alb-health-check")
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["body"] == ""


def test_lattice_v2_is_not_mistaken_for_http_api():
    from strum.adapter.sources import find_source, lattice

    for name in ("lattice-v2-get", "lattice-v2-post-base64"):
        assert find_source(load_event(name)) is lattice.V2
    environ = environ_for("lattice-v2-get")
    assert environ["REQUEST_METHOD"] == "GET"


def test_lattice_v1_comma_joined_headers_pass_through():
    environ = environ_for("lattice-v1-get")
    assert environ["HTTP_X_CUSTOM_TAG"] == "alpha,beta"
    assert environ["PATH_INFO"] == "/orders/123"


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("sqs", "SQS"),
        ("sns", "SNS"),
        ("s3-put", "S3"),
        ("eventbridge-scheduled", "EventBridge scheduled"),
        ("dynamodb-stream", "DynamoDB"),
        ("kinesis", "Kinesis"),
    ],
)
def test_non_http_events_are_rejected_naming_their_source(name, source):
    handler = make_handler(wsgi_echo)
    with pytest.raises(UnsupportedEvent, match=source):
        handler(load_event(name), None)


def test_a_non_object_event_is_rejected():
    with pytest.raises(UnsupportedEvent, match="JSON list"):
        make_handler(wsgi_echo)([1, 2], None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop("httpMethod") and e.update(httpMethod=None), "REST"),
        (lambda e: e.update(body="***", isBase64Encoded=True), "not base64"),
        (lambda e: e.update(multiValueHeaders={"a": "not-a-list"}), "REST"),
        (lambda e: e.update(path=None), "REST"),
    ],
)
def test_malformed_rest_events_raise_invalid_event(mutate, message):
    event = load_event("rest-v1-get")
    mutate(event)
    with pytest.raises(InvalidEvent, match=message):
        make_handler(wsgi_echo)(event, None)


def test_malformed_v2_event_names_the_missing_key():
    event = load_event("http-v2-get")
    del event["requestContext"]["http"]["method"]
    with pytest.raises(InvalidEvent, match=r"HTTP API .*'method'"):
        make_handler(wsgi_echo)(event, None)
