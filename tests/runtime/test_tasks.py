"""@task: inline outside a function, argument checks at the call site, real async invoke."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from strum import task
from strum.runtime.tasks import MAX_ASYNC_PAYLOAD, TaskError

ran: list[tuple] = []


@task
def add(a, b=0):
    """Add two numbers."""
    ran.append((a, b))
    return a + b


def test_task_is_still_a_plain_function():
    assert add(1, b=2) == 3
    assert add.__name__ == "add"
    assert add.__doc__ == "Add two numbers."
    assert add.name == f"{__name__}:add"


def test_delay_runs_inline_outside_a_deployed_function(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    ran.clear()
    assert add.delay(2, b=3) is None
    assert ran == [(2, 3)]


def test_arguments_are_checked_before_anything_is_sent():
    with pytest.raises(TaskError, match="JSON-serialisable"):
        add.delay(object())
    with pytest.raises(TaskError, match="1048576 byte limit"):
        add.delay("x" * MAX_ASYNC_PAYLOAD)
    with pytest.raises(TaskError, match="JSON-serialisable"):
        add.delay(float("nan"))


class _Platform(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict, bytes]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(202)
        self.send_header("x-amzn-RequestId", "req-123")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_delay_inside_the_platform_invokes_the_same_version_async(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-dev")
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
        monkeypatch.setenv("_HANDLER", "strum.runtime.entry.handler")
        monkeypatch.setenv("STRUM_PLATFORM_API", f"http://127.0.0.1:{server.server_port}")
        ran.clear()
        assert add.delay(1, b=2) == "req-123"
        assert ran == []  # not run here
        path, headers, body = _Platform.received[-1]
        assert path == "/2015-03-31/functions/shop-dev/invocations?Qualifier=7"
        assert headers["X-Amz-Invocation-Type"] == "Event"
        assert json.loads(body) == {
            "strum": "task",
            "task": f"{__name__}:add",
            "args": [1],
            "kwargs": {"b": 2},
        }
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_platform_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-dev")
    monkeypatch.setenv("_HANDLER", "strum.runtime.entry.handler")
    monkeypatch.setenv("STRUM_PLATFORM_API", "http://127.0.0.1:9")
    with pytest.raises(TaskError, match="could not reach strum's platform"):
        add.delay(1)
