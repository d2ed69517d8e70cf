"""make_handler: interface detection, bodies, errors, limits and ASGI lifespan."""

from __future__ import annotations

import base64
import functools
import logging

import pytest

from strum import make_handler
from strum.adapter import detect_interface
from strum.adapter._body import MAX_RESPONSE_BYTES, is_text_type
from strum.errors import AppError
from tests.adapter.gateway import GatewayRequest, from_response, to_event


def wsgi_reply(status="200 OK", headers=(), body=b""):
    def app(environ, start_response):
        start_response(status, list(headers))
        return [body]

    return app


def call(app, kind="http-v2", request=None, **options):
    handler = make_handler(app, **options)
    try:
        raw = handler(to_event(kind, request or GatewayRequest()), None)
    finally:
        handler.shutdown()
    return raw, from_response(kind, raw)


# -- interface detection ---------------------------------------------------------------


class WsgiObject:
    def __call__(self, environ, start_response):
        return []


class AsgiObject:
    async def __call__(self, scope, receive, send):
        pass


def test_detects_wsgi_and_asgi_shapes():
    async def asgi_fn(scope, receive, send):
        pass

    def wsgi_fn(environ, start_response):
        return []

    @functools.wraps(wsgi_fn)
    def decorated(*args, **kwargs):
        return wsgi_fn(*args, **kwargs)

    assert detect_interface(wsgi_fn) == "wsgi"
    assert detect_interface(WsgiObject()) == "wsgi"
    assert detect_interface(decorated) == "wsgi"
    assert detect_interface(asgi_fn) == "asgi"
    assert detect_interface(AsgiObject()) == "asgi"


def test_undetectable_apps_fail_with_the_fix():
    with pytest.raises(AppError, match="interface='wsgi'"):
        detect_interface(lambda *args: None)
    with pytest.raises(AppError, match="not a WSGI or ASGI callable"):
        detect_interface("hello:app")


def test_interface_can_be_forced():
    handler = make_handler(lambda *args: [], interface="wsgi")
    assert handler.interface == "wsgi"


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="lifespan"):
        make_handler(wsgi_reply(), lifespan="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of media types"):
        make_handler(wsgi_reply(), text_mime_types="application/x-foo")


# -- response bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("application/problem+json", True),
        ("application/javascript", True),
        ("application/xml", True),
        ("application/atom+xml", True),
        ("application/x-yaml", True),
        ("application/vnd.api+yaml", True),
        ("application/x-www-form-urlencoded", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/octet-stream", False),
        ("application/pdf", False),
    ],
)
def test_text_types(content_type, text):
    assert is_text_type(content_type) is text


def test_binary_and_encoded_bodies_go_as_base64_and_text_as_text():
    raw, response = call(wsgi_reply(headers=[("Content-Type", "image/png")], body=b"\x89PNG"))
    assert raw["isBase64Encoded"] and response.body == b"\x89PNG"
    raw, _ = call(
        wsgi_reply(headers=[("Content-Type", "text/plain"), ("Content-Encoding", "br")], body=b"x")
    )
    assert raw["isBase64Encoded"]
    raw, _ = call(wsgi_reply(headers=[("Content-Type", "text/plain")], body="é".encode()))
    assert raw == {**raw, "isBase64Encoded": False, "body": "é"}


def test_latin1_text_that_is_not_utf8_survives_as_base64():
    body = "café".encode("latin-1")
    raw, response = call(
        wsgi_reply(headers=[("Content-Type", "text/plain; charset=latin-1")], body=body)
    )
    assert raw["isBase64Encoded"] and response.body == body


def test_text_mime_types_add_to_the_defaults():
    headers = [("Content-Type", "application/vnd.strum")]
    raw, _ = call(wsgi_reply(headers=headers, body=b"hi"))
    assert raw["isBase64Encoded"]
    raw, _ = call(
        wsgi_reply(headers=headers, body=b"hi"), text_mime_types=["Application/Vnd.Strum"]
    )
    assert raw["body"] == "hi" and not raw["isBase64Encoded"]


def test_no_content_type_is_invented():
    raw, response = call(wsgi_reply(body=b"plain"))
    assert response.header("content-type") is None
    assert raw["body"] == "plain"


def test_every_set_cookie_and_repeated_header_survives_in_every_format():
    headers = [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2; Path=/"),
        ("set-cookie", "c=3"),
        ("Vary", "Accept"),
        ("Vary", "Cookie"),
    ]
    for kind in ("rest-v1", "http-v2", "function-url", "alb-multi", "alb-single", "lattice-v2"):
        _, response = call(wsgi_reply(headers=headers), kind=kind)
        assert sorted(response.cookies()) == ["a=1", "b=2; Path=/", "c=3"], kind
        assert response.header("vary") in ("Accept, Cookie", "Accept, Cookie".replace(" ", "")), (
            kind
        )


def test_oversized_responses_become_a_readable_502(caplog):
    body = b"x" * MAX_RESPONSE_BYTES
    with caplog.at_level(logging.ERROR, "strum.adapter"):
        _raw, response = call(wsgi_reply(headers=[("Content-Type", "text/plain")], body=body))
    assert response.status == 502
    assert b"6 MB" in response.body
    assert "6 MB" in caplog.text


def test_base64_growth_counts_towards_the_limit():
    body = b"\x00" * (MAX_RESPONSE_BYTES * 3 // 4 + 1024)  # fits raw, not once base64-encoded
    _, response = call(wsgi_reply(headers=[("Content-Type", "image/png")], body=body))
    assert response.status == 502


def test_just_under_the_limit_passes():
    body = b"x" * (MAX_RESPONSE_BYTES - 64 * 1024)
    _, response = call(wsgi_reply(headers=[("Content-Type", "text/plain")], body=body))
    assert response.status == 200 and len(response.body) == len(body)


# -- errors inside apps ----------------------------------------------------------------


def test_wsgi_exceptions_become_500_with_a_logged_traceback(caplog):
    def app(environ, start_response):
        raise ZeroDivisionError("boom")

    with caplog.at_level(logging.ERROR, "strum.adapter"):
        _, response = call(app)
    assert response.status == 500
    assert "ZeroDivisionError: boom" in caplog.text


def test_asgi_exceptions_before_the_response_become_500(caplog):
    async def app(scope, receive, send):
        raise KeyError("missing")

    with caplog.at_level(logging.ERROR, "strum.adapter"):
        _, response = call(app, lifespan="off")
    assert response.status == 500
    assert "KeyError" in caplog.text


def test_asgi_app_that_never_finishes_its_response_is_a_500(caplog):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

    _, response = call(app, lifespan="off")
    assert response.status == 500


def test_wsgi_iterables_are_closed_even_when_iteration_fails():
    closed = []

    class Body:
        def __iter__(self):
            yield b"a"
            raise OSError("disk")

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body()

    _, response = call(app)
    assert response.status == 500 and closed == [True]


def test_wsgi_write_callable_and_generator_start_response():
    def app(environ, start_response):
        write = start_response("201 Created", [("Content-Type", "text/plain")])
        write(b"written,")
        return iter([b"iterated"])

    _, response = call(app)
    assert (response.status, response.body) == (201, b"written,iterated")


# -- ASGI HTTP details -----------------------------------------------------------------


def test_asgi_receive_reports_disconnect_only_after_the_response():
    seen = []

    async def app(scope, receive, send):
        import asyncio

        first = await receive()
        waiter = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        seen.append(waiter.done())  # must still be waiting: the response is not complete
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": first["body"]})
        seen.append((await waiter)["type"])

    request = GatewayRequest(method="POST", body=b"payload")
    _, response = call(app, request=request, lifespan="off")
    assert response.body == b"payload"
    assert seen == [False, "http.disconnect"]


def test_asgi_scope_carries_event_context_and_spec_fields():
    scopes = []

    async def app(scope, receive, send):
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    handler = make_handler(app, lifespan="off")
    event = to_event("http-v2", GatewayRequest(path="/a b", query=[("q", "1")]))
    handler(event, "the-context")
    scope = scopes[0]
    assert scope["aws.event"] is event and scope["aws.context"] == "the-context"
    assert scope["path"] == "/a b" and scope["raw_path"] == b"/a%20b"
    assert scope["query_string"] == b"q=1" and scope["scheme"] == "https"
    assert scope["client"] == ("203.0.113.9", 0)
    assert scope["asgi"]["version"] == "3.0" and "state" not in scope


# -- lifespan --------------------------------------------------------------------------


def lifespan_app(log, *, fail_startup=False, fail_shutdown=False):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    log.append("startup")
                    if fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": "no db"})
                        return
                    scope["state"]["db"] = "connected"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    log.append("shutdown")
                    kind = "failed" if fail_shutdown else "complete"
                    await send({"type": f"lifespan.shutdown.{kind}", "message": "oops"})
                    return
        body = scope["state"]["db"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def test_lifespan_starts_once_shares_state_and_shuts_down_once():
    log: list[str] = []
    handler = make_handler(lifespan_app(log))
    assert log == ["startup"]
    for _ in range(3):
        response = from_response("http-v2", handler(to_event("http-v2", GatewayRequest()), None))
        assert response.body == b"connected"
    assert log == ["startup"]
    handler.shutdown()
    handler.shutdown()
    assert log == ["startup", "shutdown"]


def test_lifespan_startup_failure_is_an_app_error():
    with pytest.raises(AppError, match="no db"):
        make_handler(lifespan_app([], fail_startup=True))


def test_lifespan_shutdown_failure_is_logged(caplog):
    handler = make_handler(lifespan_app([], fail_shutdown=True))
    with caplog.at_level(logging.ERROR):
        handler.shutdown()
    assert "shutdown failed: oops" in caplog.text


async def no_lifespan_app(scope, receive, send):
    assert scope["type"] == "http", "only HTTP here"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_lifespan_auto_tolerates_apps_without_it():
    _, response = call(no_lifespan_app)
    assert response.body == b"ok"


def test_lifespan_on_requires_it():
    with pytest.raises(AppError, match="does not support the ASGI lifespan"):
        make_handler(no_lifespan_app, lifespan="on")


def test_lifespan_shutdown_runs_at_interpreter_exit(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "app.py"
    script.write_text(
        "from strum import make_handler\n"
        "async def app(scope, receive, send):\n"
        "    while True:\n"
        "        m = await receive()\n"
        "        if m['type'] == 'lifespan.startup':\n"
        "            await send({'type': 'lifespan.startup.complete'})\n"
        "        else:\n"
        "            print('shutdown ran', flush=True)\n"
        "            await send({'type': 'lifespan.shutdown.complete'})\n"
        "            return\n"
        "handler = make_handler(app)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout == "shutdown ran\n"


def test_binary_request_bodies_are_decoded():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [environ["wsgi.input"].read()]

    body = bytes(range(256))
    request = GatewayRequest(method="POST", body=body, binary=True)
    for kind in ("rest-v1", "http-v2", "alb-multi", "lattice-v1", "lattice-v2"):
        raw, response = call(app, kind=kind, request=request)
        assert response.body == body
        assert raw["body"] == base64.b64encode(body).decode()
