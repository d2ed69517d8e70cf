"""Function URLs end to end: a real platform, boto3 for the configs, a real HTTP client."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import textwrap
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import load_event
from tests.platform.conftest import start_platform
from tests.platform.packages import ROLE, make_zip

# Answers with the event it received, as a JSON body.
ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""

# Returns, as its result, the JSON document the client posted: every response rule can be
# driven from the test. {"raise": "..."} makes it fail instead.
MIRROR = """
import base64, json

def handler(event, context):
    body = event.get("body") or "null"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    wanted = json.loads(body)
    if isinstance(wanted, dict) and "raise" in wanted:
        raise RuntimeError(wanted["raise"])
    return wanted
"""

# A plain WSGI app (a function's package holds its dependencies; this one needs none).
WSGI_APP = """
import json
from urllib.parse import parse_qs
from strum import make_handler

def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "path": environ["PATH_INFO"], "root": environ["SCRIPT_NAME"],
        "query": parse_qs(environ["QUERY_STRING"]), "cookie": environ.get("HTTP_COOKIE"),
        "host": environ.get("HTTP_HOST"), "data": environ["wsgi.input"].read(length).decode(),
    }
    start_response("203 Non-Authoritative Information", [
        ("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
    ])
    return [json.dumps(seen).encode()]

handler = make_handler(app)
"""


def deploy(client, name, source, *, auth_type="NONE", **url_config):
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": textwrap.dedent(source)})},
        Timeout=10,
    )
    created = client.create_function_url_config(FunctionName=name, AuthType=auth_type, **url_config)
    return created["FunctionUrl"]


def request(url, *, method="GET", body=None, headers=(), timeout=30):
    """(status, headers as a list, body) from a real HTTP/1.1 request on loopback."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header(headers, name):
    values = [v for n, v in headers if n.lower() == name.lower()]
    return values[0] if len(values) == 1 else values or None


def test_the_event_has_aws_shape(lambda_client):
    url = deploy(lambda_client, "echo", ECHO)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    before = time.time()
    status, headers, body = request(
        url + "files/report%202024.pdf?page=2&tag=x&tag=y&q=a+b%2Fc",
        headers=[
            ("Cookie", "session_id=9f8e; theme=dark"),
            ("X-Probe", "first"),
            ("X-Probe", "second"),
            ("User-Agent", "strum-test/1"),
        ],
    )
    assert status == 200
    event = json.loads(body)
    recorded = load_event("function-url-get")
    assert set(event) == set(recorded)
    assert set(event["requestContext"]) == set(recorded["requestContext"])
    assert set(event["requestContext"]["http"]) == set(recorded["requestContext"]["http"])
    assert event["rawPath"] == "/files/report%202024.pdf"
    assert event["rawQueryString"] == "page=2&tag=x&tag=y&q=a+b%2Fc"
    assert event["queryStringParameters"] == {"page": "2", "tag": "x,y", "q": "a b/c"}
    assert event["cookies"] == ["session_id=9f8e", "theme=dark"]
    assert event["headers"]["x-probe"] == "first,second"
    assert event["headers"]["host"] == urlsplit(url).netloc
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"
    assert re.fullmatch(r"[a-z0-9]+\.lambda-url\.us-east-1\.on\.aws", context["domainName"])
    assert context["domainPrefix"] == context["apiId"] == context["domainName"].split(".")[0]
    assert context["http"] == {
        "method": "GET",
        "path": "/files/report 2024.pdf",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "strum-test/1",
    }
    assert context["requestId"] == header(headers, "x-amzn-RequestId")
    assert before - 1 <= context["timeEpoch"] / 1000 <= time.time() + 1
    assert event["isBase64Encoded"] is False and "body" not in event


def test_bodies_text_or_base64(lambda_client):
    url = deploy(lambda_client, "bodies", ECHO)
    text = json.dumps({"note": "Gift wrap ✓"}).encode()
    _, _, body = request(
        url, method="POST", body=text, headers=[("Content-Type", "application/json")]
    )
    event = json.loads(body)
    assert (event["body"], event["isBase64Encoded"]) == (text.decode(), False)
    binary = bytes(range(256))
    _, _, body = request(
        url, method="PUT", body=binary, headers=[("Content-Type", "application/octet-stream")]
    )
    event = json.loads(body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary
    assert event["requestContext"]["http"]["method"] == "PUT"


@pytest.mark.parametrize(
    ("result", "status", "content_type", "expected_body"),
    [
        ("Hello, world!", 200, "application/json", b'"Hello, world!"'),
        ({"message": "hi"}, 200, "application/json", b'{"message": "hi"}'),
        (
            {"statusCode": 201, "headers": {"Content-Type": "text/plain"}, "body": "made"},
            201,
            "text/plain",
            b"made",
        ),
        (
            {
                "statusCode": 200,
                "body": base64.b64encode(b"\x89PNG").decode(),
                "isBase64Encoded": True,
                "headers": {"content-type": "image/png"},
            },
            200,
            "image/png",
            b"\x89PNG",
        ),
        ({"statusCode": "teapot"}, 502, "application/json", b"Internal Server Error"),
        ({"raise": "boom"}, 502, "application/json", b"Internal Server Error"),
    ],
)
def test_response_rules(lambda_client, result, status, content_type, expected_body):
    url = deploy(lambda_client, "mirror", MIRROR)
    got_status, headers, body = request(
        url, method="POST", body=json.dumps(result).encode(),
        headers=[("Content-Type", "application/json")],
    )  # fmt: skip
    assert (got_status, body) == (status, expected_body)
    assert header(headers, "Content-Type") == content_type


def test_cookies_become_set_cookie_headers(lambda_client):
    url = deploy(lambda_client, "cookies", MIRROR)
    result = {"statusCode": 200, "body": "", "cookies": ["a=1; Max-Age=60", "b=2; HttpOnly"],
              "headers": {"X-Custom": "yes"}}  # fmt: skip
    _, headers, _ = request(url, method="POST", body=json.dumps(result).encode())
    assert header(headers, "Set-Cookie") == ["a=1; Max-Age=60", "b=2; HttpOnly"]
    assert header(headers, "X-Custom") == "yes"


def test_a_wsgi_app_sees_its_own_root(lambda_client):
    url = deploy(lambda_client, "wsgi", WSGI_APP)
    status, headers, body = request(
        url + "files/a%20b/c%C3%A9.txt?x=1&x=2",
        method="POST",
        body=b"payload",
        headers=[("Cookie", "session=abc; theme=dark"), ("Content-Type", "text/plain")],
    )
    assert status == 203, body
    assert json.loads(body) == {
        # PEP 3333: PATH_INFO is the decoded path's UTF-8 bytes as latin-1.
        "path": "/files/a b/cé.txt".encode().decode("latin-1"),
        "root": "",
        "query": {"x": ["1", "2"]},
        "cookie": "session=abc; theme=dark",
        "host": urlsplit(url).netloc,
        "data": "payload",
    }
    assert header(headers, "Set-Cookie") == ["a=1", "b=2"]


def test_cors_preflight_and_headers(lambda_client):
    cors = {
        "AllowOrigins": ["https://app.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-total"],
        "MaxAge": 60,
    }
    url = deploy(lambda_client, "cors", MIRROR, Cors=cors)
    status, headers, body = request(
        url,
        method="OPTIONS",
        headers=[("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST")],
    )
    # Answered by the platform: the function (which would fail on an empty body) never ran.
    assert (status, body) == (200, b"")
    assert header(headers, "Access-Control-Allow-Origin") == "https://app.example.com"
    assert header(headers, "Access-Control-Allow-Methods") == "GET,POST"
    assert header(headers, "Access-Control-Max-Age") == "60"
    result = {"statusCode": 200, "body": "ok",
              "headers": {"Access-Control-Allow-Origin": "https://wrong.example"}}  # fmt: skip
    status, headers, body = request(
        url, method="POST", body=json.dumps(result).encode(),
        headers=[("Origin", "https://app.example.com")],
    )  # fmt: skip
    assert (status, body) == (200, b"ok")
    assert header(headers, "Access-Control-Allow-Origin") == "https://app.example.com"
    assert header(headers, "Access-Control-Expose-Headers") == "x-total"


def signed_request(url, body, key, secret):
    aws = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(aws)
    return request(url, method="POST", body=body, headers=list(aws.headers.items()))


def test_aws_iam_urls_verify_signatures_against_issued_keys(lambda_client, running_platform):
    url = deploy(lambda_client, "private", ECHO, auth_type="AWS_IAM")
    keys = running_platform.platform.keys
    caller = keys.create(
        "url-caller",
        json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "lambda:InvokeFunctionUrl",
                        "Resource": "arn:aws:lambda:*:*:function:private*",
                    }
                ]
            }
        ),
    )
    bystander = keys.create(
        "bystander",
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"}]}),
    )
    status, _, body = request(url)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    # A correct signature with made-up keys, the right key with the wrong secret, and a
    # real key whose policy does not allow lambda:InvokeFunctionUrl: all Forbidden.
    for key_id, secret in (
        ("AKIAMADEUPMADEUPMADE", "made-up"),
        (caller.access_key_id, "wrong"),
        (bystander.access_key_id, bystander.secret),
    ):
        status, _, body = signed_request(url + "x?a=1", b"{}", key_id, secret)
        assert (status, json.loads(body)) == (403, {"Message": "Forbidden"}), key_id
    status, _, body = signed_request(
        url + "x?a=1", b'{"n": 1}', caller.access_key_id, caller.secret
    )
    assert status == 200
    event = json.loads(body)
    assert event["requestContext"]["accountId"] == "000000000000"
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == caller.access_key_id
    assert iam["userArn"] == "arn:aws:iam::000000000000:user/url-caller"
    assert event["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
    keys.revoke("url-caller")
    status, _, _ = signed_request(url + "x?a=1", b"{}", caller.access_key_id, caller.secret)
    assert status == 403


def test_throttled_urls_answer_429(lambda_client):
    url = deploy(lambda_client, "throttled", ECHO)
    lambda_client.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    status, headers, _ = request(url)
    assert status == 429
    assert header(headers, "x-amzn-ErrorType") == "TooManyRequestsException"


def test_requests_over_6_mb_answer_413(lambda_client):
    url = deploy(lambda_client, "big", ECHO)
    status, _, _ = request(url, method="POST", body=b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413


STREAMER = """
import json, os, time
from strum.runtime.streaming import StreamingResponse

def handler(event, context):
    if event["rawPath"] == "/fail":
        def failing():
            yield json.dumps({"statusCode": 200}).encode() + b"\\0" * 8
            yield b"partial"
            raise RuntimeError("mid-stream")
        return StreamingResponse("application/vnd.awslambda.http-integration-response", failing())
    gate = event["queryStringParameters"]["gate"]

    def body():
        yield json.dumps({"statusCode": 201, "headers": {"content-type": "text/plain",
                          "x-streamed": "yes"}, "cookies": ["s=1"]}).encode()
        yield b"\\0" * 8
        yield b"first;"
        deadline = time.monotonic() + 20
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        yield b"second"
    return StreamingResponse("application/vnd.awslambda.http-integration-response", body())
"""


def test_response_streaming(lambda_client, tmp_path):
    url = deploy(lambda_client, "stream", STREAMER, InvokeMode="RESPONSE_STREAM")
    gate = tmp_path / "gate"
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"/?gate={gate}")
        response = connection.getresponse()
        assert response.status == 201
        assert response.getheader("x-streamed") == "yes"
        assert response.getheader("Content-Type") == "text/plain"
        assert response.getheader("Set-Cookie") == "s=1"
        # The first part arrives while the function is still running: it waits for the gate.
        assert response.read1() == b"first;"
        gate.touch()
        assert response.read() == b"second"
    finally:
        connection.close()
    # A failure after the headers went out: the client sees a broken stream, not a success.
    with pytest.raises(http.client.IncompleteRead):
        request(url + "fail")


def test_urls_survive_a_restart_and_close_on_delete(tmp_path):
    home = tmp_path / "home"
    running = start_platform(home)
    try:
        url = deploy(running.client(), "durable", ECHO)
        other = deploy(running.client(), "moved", ECHO)
    finally:
        running.stop()
    # Someone else took the second URL's port while the platform was down.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", urlsplit(other).port))
    squatter.listen()
    running = start_platform(home)
    try:
        client = running.client()
        assert client.get_function_url_config(FunctionName="durable")["FunctionUrl"] == url
        status, _, _ = request(url)
        assert status == 200
        moved = client.get_function_url_config(FunctionName="moved")["FunctionUrl"]
        assert moved != other
        assert request(moved)[0] == 200
        client.delete_function_url_config(FunctionName="durable")
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=5)
    finally:
        squatter.close()
        running.stop()


SIZED_STREAM = """
import json
from strum.runtime.streaming import StreamingResponse

def handler(event, context):
    def body():
        yield json.dumps({"statusCode": 200, "headers": {"content-type": "application/json",
                          "content-length": "16"}}).encode()
        yield b"\\0" * 8
        yield b'{"hello": "you"}'
    return StreamingResponse("application/vnd.awslambda.http-integration-response", body())
"""


def test_a_streamed_response_that_declares_its_length_still_arrives(lambda_client):
    # What Flask or FastAPI answer through a stream = true function: a Content-Length
    # (the deploy-safety issue saw "500 Server got itself in trouble" here).
    url = deploy(lambda_client, "sized", SIZED_STREAM, InvokeMode="RESPONSE_STREAM")
    status, headers, body = request(url)
    assert (status, body) == (200, b'{"hello": "you"}')
    assert header(headers, "Content-Type") == "application/json"
