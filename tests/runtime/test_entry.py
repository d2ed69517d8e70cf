"""strum.runtime.entry as a real function: under strum's runtime and under awslambdaric.

A packaged project (app module + manifest) runs in a child process against the Runtime API
test server; HTTP, task and schedule events give the same results under both runtimes, and
under strum's runtime a Function URL request streams.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_event
from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer

APP = """
import time
from strum import task

def app(environ, start_response):
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "s=1")])
        return (chunk for chunk in (b"one,", b"two,", b"three"))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"path": "' + environ["PATH_INFO"].encode() + b'"}']

@task
def double(n):
    return n * 2

def nightly(event, context):
    return {"ran": "nightly", "remaining_ms_positive": context.get_remaining_time_in_millis() > 0}
"""


def write_project(functions: FunctionFactory, *, stream: bool = False) -> dict[str, str]:
    functions.module("project", APP)
    manifest = {
        "version": 1,
        "app": "project:app",
        "stream": stream,
        "schedules": {"nightly": {"function": "project:nightly", "expression": "rate(1 day)"}},
    }
    (functions.task_root / "strum_manifest.json").write_text(json.dumps(manifest))
    return {}


def invoke(functions: FunctionFactory, runtime: str, events: list[object]) -> list[object]:
    process = functions.start("strum.runtime.entry.handler", runtime=runtime)
    try:
        ids = [functions.server.enqueue(event) for event in events]
        return [functions.server.result(request_id) for request_id in ids]
    finally:
        process.stop()


@pytest.mark.parametrize("runtime", ["strum", "awslambdaric"])
def test_entry_routes_http_tasks_and_schedules(
    functions: FunctionFactory, runtime_api: RuntimeAPIServer, runtime: str
) -> None:
    write_project(functions)
    scheduled = load_event("eventbridge-scheduled")
    scheduled["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/shop-dev-nightly"]
    http, task_result, schedule = invoke(
        functions,
        runtime,
        [
            load_event("http-v2-named-stage"),
            {"strum": "task", "task": "project:double", "args": [21], "kwargs": {}},
            scheduled,
        ],
    )
    assert http.kind == "response"
    assert http.json()["statusCode"] == 200
    assert json.loads(http.json()["body"]) == {"path": "/items/42"}
    assert task_result.json() == 42
    assert schedule.json() == {"ran": "nightly", "remaining_ms_positive": True}


def test_function_url_responses_stream_under_strums_runtime(
    functions: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    write_project(functions, stream=True)
    event = load_event("function-url-get")
    event["rawPath"] = "/stream"
    (posted,) = invoke(functions, "strum", [event])
    assert posted.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert posted.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    prelude, _, body = posted.body.partition(b"\0" * 8)
    assert json.loads(prelude) == {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "cookies": ["s=1"],
    }
    assert body == b"one,two,three"
    assert len(posted.chunks) >= 4  # prelude and each body chunk travelled separately


def test_streaming_manifest_falls_back_to_buffered_under_awslambdaric(
    functions: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    write_project(functions, stream=True)
    event = load_event("function-url-get")
    event["rawPath"] = "/stream"
    (posted,) = invoke(functions, "awslambdaric", [event])
    assert posted.json()["body"] == "one,two,three"


def test_a_missing_app_is_an_init_error(
    functions: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    (functions.task_root / "strum_manifest.json").write_text(
        json.dumps({"version": 1, "app": "nowhere:app"})
    )
    process = functions.start("strum.runtime.entry.handler")
    error = functions.server.init_error()
    process.stop()
    assert error.json()["errorType"] == "Runtime.ImportModuleError"
    assert "nowhere" in error.json()["errorMessage"]
