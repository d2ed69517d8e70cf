"""Other bootstraps (awslambdaric, a Node.js custom runtime) and response streaming."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from strum.platform import sandbox
from strum.platform.engine import Engine, StreamFailed

from .engine_support import make_spec, run_engine, write_code

NODE_BOOTSTRAP = r"""#!/usr/bin/env node
// A minimal Lambda Runtime API client, as any custom runtime implements one.
const http = require('http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [file, name] = process.env._HANDLER.split('.');
const handler = require(`${process.env.LAMBDA_TASK_ROOT}/${file}.js`)[name];

function call(method, path, body, headers) {
  return new Promise((resolve, reject) => {
    const options = { host, port, method, agent, headers, path: `/2018-06-01/runtime${path}` };
    const req = http.request(options, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const context = { awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME };
    try {
      const result = await handler(JSON.parse(next.body.toString()), context);
      await call('POST', `/invocation/${id}/response`, JSON.stringify(result),
                 { 'Content-Type': 'application/json' });
    } catch (err) {
      console.error(`[ERROR] ${err.name}: ${err.message}`);
      await call('POST', `/invocation/${id}/error`,
                 JSON.stringify({ errorMessage: err.message, errorType: err.name }),
                 { 'Lambda-Runtime-Function-Error-Type': err.name });
    }
  }
})();
"""

NODE_HANDLER = """
exports.handler = async (event, context) => {
  console.log('node got', event.n);
  if (event.fail) throw new TypeError('no good');
  return { runtime: 'node', pid: process.pid, n: event.n, id: context.awsRequestId };
};
"""

PY_HANDLER = """
import os

def handler(event, context):
    print("ric got", event["n"])
    if event.get("fail"):
        raise KeyError("missing")
    return {"runtime": "awslambdaric", "pid": os.getpid(), "id": context.aws_request_id}
"""

STREAMING = """
import time
from strum.runtime.streaming import StreamingResponse

def handler(event, context):
    def chunks():
        yield b"one,"
        if event.get("pause"):
            time.sleep(event["pause"])
        yield b"two,"
        if event.get("fail"):
            raise RuntimeError("broke mid-stream")
        yield b"three"
    if event.get("buffered"):
        return {"plain": True}
    if event.get("early"):
        raise ValueError("before any byte")
    return StreamingResponse("text/plain", chunks())
"""


def twice(engine: Engine, spec, n: int = 1):
    async def run():
        first = await engine.invoke(spec, json.dumps({"n": n}).encode(), tail=True)
        second = await engine.invoke(spec, json.dumps({"n": n + 1}).encode(), tail=True)
        failed = await engine.invoke(spec, json.dumps({"n": 0, "fail": True}).encode())
        return first, second, failed

    return run()


@pytest.mark.parametrize(
    "sandboxed",
    [
        False,
        pytest.param(
            True, marks=pytest.mark.skipif(not sandbox.probe().bwrap, reason="no bubblewrap")
        ),
    ],
)
def test_nodejs_custom_runtime(tmp_path: Path, sandboxed: bool) -> None:
    code = write_code(tmp_path / "code", {"bootstrap": NODE_BOOTSTRAP, "index.js": NODE_HANDLER})
    spec = make_spec(code, runtime="provided.al2023", handler="index.handler", memory_mb=256)
    first, second, failed = run_engine(
        tmp_path, lambda engine: twice(engine, spec), sandbox=sandboxed
    )
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert one["runtime"] == "node" and one["id"] == first.request_id
    assert one["pid"] == two["pid"]  # warm
    assert "node got 1" in first.log_tail and "Init Duration" in first.log_tail
    assert "node got 2" in second.log_tail and "Init Duration" not in second.log_tail
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload) == {"errorMessage": "no good", "errorType": "TypeError"}


def test_awslambdaric_as_bootstrap(tmp_path: Path) -> None:
    bootstrap = f'#!/bin/sh\nexec {sys.executable} -m awslambdaric "$_HANDLER"\n'
    code = write_code(tmp_path / "code", {"bootstrap": bootstrap, "app.py": PY_HANDLER})
    spec = make_spec(code, runtime="provided.al2023")
    first, second, failed = run_engine(tmp_path, lambda engine: twice(engine, spec))
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert one["runtime"] == "awslambdaric" and one["id"] == first.request_id
    assert one["pid"] == two["pid"]
    assert "ric got 2" in second.log_tail
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload)["errorType"] == "KeyError"


def stream(engine: Engine, spec, event):
    async def run():
        started = time.monotonic()
        headers, body = await engine.invoke_stream(spec, json.dumps(event).encode())
        chunks, arrivals, error = [], [], None
        try:
            async for chunk in body:
                chunks.append(chunk)
                arrivals.append(time.monotonic() - started)
        except StreamFailed as exc:
            error = exc
        return headers, chunks, arrivals, error

    return run()


def test_invoke_stream_delivers_chunks_as_they_are_produced(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": STREAMING})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        await engine.invoke(spec, b'{"buffered": true}')  # warm up
        return await stream(engine, spec, {"pause": 0.5})

    headers, chunks, arrivals, error = run_engine(tmp_path, scenario)
    assert error is None
    assert headers["Content-Type"] == "text/plain"
    assert headers["Lambda-Runtime-Function-Response-Mode"] == "streaming"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert b"".join(chunks) == b"one,two,three"
    assert chunks[0] == b"one,"
    assert arrivals[0] < 0.4 <= arrivals[-1]


def test_invoke_stream_mid_stream_error_trailer(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": STREAMING})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        streamed = await stream(engine, spec, {"fail": True})
        # The instance survives a handled mid-stream error.
        again = await stream(engine, spec, {})
        return streamed, again, engine.status()["instances"]["cold_starts"]

    (_headers, chunks, _, error), again, cold_starts = run_engine(tmp_path, scenario)
    assert b"".join(chunks) == b"one,two,"
    assert isinstance(error, StreamFailed)
    assert error.error_type == "RuntimeError"
    assert json.loads(error.document)["errorMessage"] == "broke mid-stream"
    assert b"".join(again[1]) == b"one,two,three"
    assert cold_starts == 1


def test_invoke_stream_of_buffered_and_failing_functions(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": STREAMING})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        buffered = await stream(engine, spec, {"buffered": True})
        early = await stream(engine, spec, {"early": True})
        return buffered, early

    buffered, early = run_engine(tmp_path, scenario)
    headers, chunks, _, error = buffered
    assert headers["Content-Type"] == "application/json"
    assert "X-Amz-Function-Error" not in headers
    assert chunks == [b'{"plain": true}'] and error is None
    headers, chunks, _, error = early
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(b"".join(chunks))["errorType"] == "ValueError"


@pytest.mark.parametrize("fail", [False, True])
def test_invoke_collects_a_streamed_response(tmp_path: Path, fail: bool) -> None:
    code = write_code(tmp_path / "code", {"app.py": STREAMING})

    async def scenario(engine: Engine):
        return await engine.invoke(make_spec(code), json.dumps({"fail": fail}).encode())

    result = run_engine(tmp_path, scenario)
    assert result.streamed
    if fail:
        assert result.function_error == "Unhandled"
        assert json.loads(result.payload)["errorType"] == "RuntimeError"
    else:
        assert result.function_error is None
        assert result.payload == b"one,two,three"
        assert result.content_type == "text/plain"
