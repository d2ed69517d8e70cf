"""LambdaHandler.stream: bodies leave chunk by chunk, as the app produces them."""

from __future__ import annotations

import asyncio

import pytest

from strum import make_handler
from tests.adapter.apps.payloads import STREAM_CHUNKS
from tests.adapter.gateway import GatewayRequest, to_event

EVENT = to_event("function-url", GatewayRequest(path="/stream", host="example.test"))


def test_wsgi_generator_chunks_arrive_one_at_a_time():
    produced: list[bytes] = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
        for chunk in STREAM_CHUNKS:
            produced.append(chunk)
            yield chunk

    prelude, chunks = make_handler(app).stream(EVENT, None)
    assert prelude == {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "cookies": ["a=1"],
    }
    received = []
    for chunk in chunks:
        if chunk:
            received.append(chunk)
            assert produced[-1] == chunk  # nothing was produced ahead of what was sent
    assert received == STREAM_CHUNKS


def test_asgi_more_body_chunks_arrive_before_the_app_finishes():
    progress: list[str] = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        for chunk in STREAM_CHUNKS:
            progress.append(chunk.decode())
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
        progress.append("done")

    handler = make_handler(app, lifespan="off")
    try:
        prelude, chunks = handler.stream(EVENT, None)
        assert prelude["statusCode"] == 201
        first = next(chunks)
        assert first == STREAM_CHUNKS[0]
        assert "done" not in progress
        assert [first, *chunks] == STREAM_CHUNKS
        assert progress[-1] == "done"
    finally:
        handler.shutdown()


def test_starlette_streaming_response_streams():
    from tests.adapter.apps.starlette_app import app

    handler = make_handler(app, lifespan="off")
    try:
        prelude, chunks = handler.stream(EVENT, None)
        assert prelude["statusCode"] == 200
        assert b"".join(chunks) == b"".join(STREAM_CHUNKS)
    finally:
        handler.shutdown()


def test_failure_mid_stream_propagates_from_the_iterator():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("database went away")

    handler = make_handler(app, lifespan="off")
    try:
        _, chunks = handler.stream(EVENT, None)
        assert next(chunks) == b"partial"
        with pytest.raises(ValueError, match="database went away"):
            next(chunks)
    finally:
        handler.shutdown()


def test_failure_before_the_response_is_a_500():
    def app(environ, start_response):
        raise RuntimeError("boom")

    prelude, chunks = make_handler(app).stream(EVENT, None)
    assert prelude["statusCode"] == 500
    assert b"".join(chunks) == b"Internal Server Error"


def test_wsgi_iterable_closed_after_streaming():
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"a", b"b"])

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body()

    _, chunks = make_handler(app).stream(EVENT, None)
    assert b"".join(chunks) == b"ab"
    assert closed == [True]
