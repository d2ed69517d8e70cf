"""Response streaming over the Runtime API: chunked, flushed per chunk, errors as trailers."""

from __future__ import annotations

import base64
import json

import pytest

from strum.runtime.streaming import StreamingResponse
from tests.runtime.handlers import FNS
from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer


@pytest.fixture
def fns(functions: FunctionFactory) -> FunctionFactory:
    functions.module("fns", FNS)
    return functions


def test_each_chunk_reaches_the_runtime_api_as_it_is_produced(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    # The handler yields chunk n+1 only after the server has received chunk n, so this
    # completes only if every chunk is flushed to the socket on its own.
    runtime_api.on_chunk = lambda n: fns.marker(f"received-{n}").write_text("")
    fns.start("fns.stream")

    result = runtime_api.result(runtime_api.enqueue({}))

    assert result.kind == "response"
    assert result.chunks == [b"chunk-1;", b"chunk-2;", b"chunk-3;"]
    assert result.trailers == {}
    assert result.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert result.headers["transfer-encoding"] == "chunked"
    assert result.headers["content-type"] == "text/plain"
    assert result.headers["trailer"] == (
        "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )


def test_failure_mid_stream_ends_the_body_with_error_trailers(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    process = fns.start("fns.stream_fails")
    request_id = runtime_api.enqueue({})

    result = runtime_api.result(request_id)

    assert result.chunks == [b"partial"]
    assert result.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    error = json.loads(base64.b64decode(result.trailers["lambda-runtime-function-error-body"]))
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "RuntimeError",
        "disk on fire",
        request_id,
    )
    assert "raise RuntimeError" in error["stackTrace"][-1]
    # The stream's failure is the invocation's: the runtime carries on with the next one.
    assert runtime_api.result(runtime_api.enqueue({})).kind == "response"
    _, _, err = process.stop()
    assert "[ERROR] RuntimeError: disk on fire\r" in err


def test_streaming_response_defaults() -> None:
    response = StreamingResponse()
    assert (response.content_type, list(response.chunks)) == ("application/octet-stream", [])
    assert "application/octet-stream" in repr(response)
