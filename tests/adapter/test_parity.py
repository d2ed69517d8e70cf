"""Parity: through strum, an app answers exactly as through its framework's own test client.

For real Flask, Django, FastAPI and Starlette apps and a table of requests (methods, query
strings, repeated headers, cookies in and out, redirects, binary, gzip and streamed
responses, a file upload, HEAD), every event kind must yield the response the framework's
test client yields.
"""

from __future__ import annotations

import json
import warnings
from urllib.parse import unquote

import pytest

from strum import make_handler
from tests.adapter.apps.payloads import PNG_BYTES
from tests.adapter.gateway import KINDS, GatewayRequest, GatewayResponse, from_response, to_event

HOST = "testserver"
BOUNDARY = "strum-boundary-7MA4YWxkTrZu0gW"
UPLOAD_BODY = (
    (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="note"\r\n\r\n'
        "a note\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="pic.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    + PNG_BYTES
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)

REQUESTS = {
    "hello": GatewayRequest(path="/hello", query=[("name", "world")]),
    "hello-encoded-query": GatewayRequest(path="/hello", query=[("name", "a b+c/é&=")]),
    "echo-repeats": GatewayRequest(
        path="/echo",
        query=[("a", "1"), ("a", "2"), ("b", "/x")],
        headers=[("X-Multi", "one"), ("X-Multi", "two")],
        cookies=["c1=v1", "c2=v2"],
    ),
    "echo-post-json": GatewayRequest(
        method="POST",
        path="/echo",
        headers=[("Content-Type", "application/json")],
        body='{"hello": "wörld"}'.encode(),
    ),
    "echo-put-binary": GatewayRequest(
        method="PUT",
        path="/echo",
        headers=[("Content-Type", "application/octet-stream")],
        body=PNG_BYTES,
        binary=True,
    ),
    "echo-patch-form": GatewayRequest(
        method="PATCH",
        path="/echo",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"a=1&b=%C3%A9",
    ),
    "echo-delete": GatewayRequest(method="DELETE", path="/echo"),
    "cookies-out": GatewayRequest(path="/cookies"),
    "redirect": GatewayRequest(path="/redirect"),
    "binary": GatewayRequest(path="/binary"),
    "gzip": GatewayRequest(path="/gzip", headers=[("Accept-Encoding", "gzip")]),
    "stream": GatewayRequest(path="/stream"),
    "upload": GatewayRequest(
        method="POST",
        path="/upload",
        headers=[("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
        body=UPLOAD_BODY,
        binary=True,
    ),
    "head": GatewayRequest(method="HEAD", path="/hello", query=[("name", "x")]),
    "unicode-path": GatewayRequest(path="/unicode/café"),
    "not-found": GatewayRequest(path="/nowhere"),
}
for _request in REQUESTS.values():
    _request.host = HOST
# Gateways that keep one value per query key cannot carry these.
LOSSY_KINDS = {"alb-single", "lattice-v1"}
NEEDS_REPEATS = {"echo-repeats"}


def _headers_in(request: GatewayRequest) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.all_headers() if k.lower() != "host"]


def _url(request: GatewayRequest) -> str:
    query = request.encoded_query()
    return request.encoded_path() + (f"?{query}" if query else "")


def flask_client(request: GatewayRequest) -> GatewayResponse:
    from tests.adapter.apps.flask_app import app

    response = app.test_client(use_cookies=False).open(
        _url(request),
        base_url=f"https://{HOST}",
        method=request.method,
        headers=_headers_in(request),
        data=request.body,
    )
    headers = [(k.lower(), v) for k, v in response.headers.to_wsgi_list()]
    return GatewayResponse(response.status_code, headers, response.get_data())


def django_client(request: GatewayRequest) -> GatewayResponse:
    from django.test import Client

    import tests.adapter.apps.django_app  # noqa: F401  (configures settings)

    headers: dict[str, str] = {}
    content_type = "application/octet-stream"
    for name, value in _headers_in(request):
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() != "content-length":
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    response = Client(raise_request_exception=False).generic(
        request.method,
        request.encoded_path(),
        data=request.body,
        content_type=content_type,
        secure=True,
        headers=headers,
        QUERY_STRING=request.encoded_query(),
    )
    out = [(k.lower(), v) for k, v in response.items()]
    out += [("set-cookie", c.output(header="").strip()) for c in response.cookies.values()]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return GatewayResponse(response.status_code, out, body)


def asgi_client(app, request: GatewayRequest) -> GatewayResponse:
    from starlette.testclient import TestClient

    client = TestClient(app, base_url=f"https://{HOST}", raise_server_exceptions=False)
    with client.stream(
        request.method,
        _url(request),
        headers=_headers_in(request),
        content=request.body or None,
        follow_redirects=False,
    ) as response:
        body = b"".join(response.iter_raw())  # as sent: httpx would gunzip .content
    headers = [(k.lower(), v) for k, v in response.headers.multi_items()]
    return GatewayResponse(response.status_code, headers, body)


def starlette_client(request: GatewayRequest) -> GatewayResponse:
    from tests.adapter.apps.starlette_app import app

    return asgi_client(app, request)


def fastapi_client(request: GatewayRequest) -> GatewayResponse:
    from tests.adapter.apps.fastapi_app import app

    return asgi_client(app, request)


def _app(framework: str):
    if framework == "flask":
        from tests.adapter.apps.flask_app import app
    elif framework == "django":
        from tests.adapter.apps.django_app import app
    elif framework == "starlette":
        from tests.adapter.apps.starlette_app import app
    else:
        from tests.adapter.apps.fastapi_app import app
    return app


CLIENTS = {
    "flask": flask_client,
    "django": django_client,
    "starlette": starlette_client,
    "fastapi": fastapi_client,
}


def comparable(response: GatewayResponse, request: GatewayRequest) -> dict:
    def split(name: str) -> list[str]:
        return sorted(
            p.strip() for k, v in response.headers if k == name for p in v.split(",") if p.strip()
        )

    body = response.body
    if response.header("content-type") == "application/json" and body[:1] == b"{":
        body = json.loads(body)
    return {
        "status": response.status,
        "body": body if request.method != "HEAD" else b"",
        "content-type": response.header("content-type"),
        "content-encoding": response.header("content-encoding"),
        "location": response.header("location"),
        "cookies": sorted(c.strip() for c in response.cookies()),
        "x-rep": split("x-rep"),
    }


@pytest.fixture(scope="module")
def handlers():
    built = {name: make_handler(_app(name), lifespan="off") for name in CLIENTS}
    yield built
    for handler in built.values():
        handler.shutdown()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("framework", list(CLIENTS))
@pytest.mark.parametrize("case", list(REQUESTS))
def test_strum_matches_the_framework_test_client(handlers, framework, kind, case):
    request = REQUESTS[case]
    if kind in LOSSY_KINDS and case in NEEDS_REPEATS:
        pytest.skip(f"{kind} keeps one value per query key")
    with warnings.catch_warnings():
        # Django's test client warns about bodies on GET-like methods it does not expect.
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = CLIENTS[framework](request)
    actual = from_response(kind, handlers[framework](to_event(kind, request), None))
    assert comparable(actual, request) == comparable(expected, request)


@pytest.mark.parametrize("framework", list(CLIENTS))
def test_app_exceptions_answer_like_the_framework(handlers, framework):
    request = GatewayRequest(path="/error", host=HOST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = CLIENTS[framework](request)
    actual = from_response("http-v2", handlers[framework](to_event("http-v2", request), None))
    assert actual.status == expected.status == 500


@pytest.mark.parametrize("framework", list(CLIENTS))
@pytest.mark.parametrize("kind", ["rest-v1", "http-v2"])
def test_urls_the_app_builds_include_the_stage(handlers, framework, kind):
    request = GatewayRequest(path="/unicode/café", host=HOST, stage="prod")
    response = from_response(kind, handlers[framework](to_event(kind, request), None))
    assert response.status == 200
    url = json.loads(response.body)["url"]
    assert unquote(url) == f"https://{HOST}/prod/unicode/café"  # Starlette does not quote


@pytest.mark.parametrize("framework", list(CLIENTS))
def test_redirects_keep_the_stage(handlers, framework):
    request = GatewayRequest(path="/redirect", host=HOST, stage="prod")
    response = from_response("rest-v1", handlers[framework](to_event("rest-v1", request), None))
    assert response.status == 302
    location = response.header("location") or ""
    assert location.removeprefix(f"https://{HOST}") == "/prod/hello?name=again"
