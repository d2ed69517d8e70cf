"""Limits and failures: timeout, out of memory, crashes, bad entrypoints."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from strum.platform.engine import Engine

from .engine_support import eventually, make_spec, pid_alive, run_engine, write_code

APP = """
import os, sys, time

def handler(event, context):
    action = event.get("action")
    if action == "sleep":
        print("sleeping", flush=True)
        time.sleep(event["seconds"])
    elif action == "allocate":
        hog = bytearray(event["mb"] * 1024 * 1024)
        return len(hog)
    elif action == "exit":
        os._exit(event.get("code", 1))
    elif action == "segv":
        import ctypes
        ctypes.string_at(0)
    return {"pid": os.getpid()}
"""


def call(engine: Engine, spec, event, **kwargs):
    return engine.invoke(spec, json.dumps(event).encode(), **kwargs)


def test_timeout_kills_the_instance_with_aws_error(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, timeout_s=1)

    async def scenario(engine: Engine):
        warm = json.loads((await call(engine, spec, {})).payload)
        result = await call(engine, spec, {"action": "sleep", "seconds": 30}, tail=True)
        await eventually(lambda: not pid_alive(warm["pid"]))
        after = json.loads((await call(engine, spec, {})).payload)
        return warm, result, after

    warm, result, after = run_engine(tmp_path, scenario)
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert "sleeping" in result.log_tail
    assert re.search(rf"Z {result.request_id} Task timed out after 1.00 seconds", result.log_tail)
    assert "\tStatus: timeout" in result.log_tail
    assert after["pid"] != warm["pid"]


def test_memory_limit_is_enforced(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, memory_mb=128)

    async def scenario(engine: Engine):
        small = await call(engine, spec, {"action": "allocate", "mb": 16})
        pid = json.loads((await call(engine, spec, {})).payload)["pid"]
        big = await call(engine, spec, {"action": "allocate", "mb": 512}, tail=True)
        await eventually(lambda: not pid_alive(pid))
        after = await call(engine, spec, {})
        return small, big, after

    small, big, after = run_engine(tmp_path, scenario)
    assert small.function_error is None and json.loads(small.payload) == 16 * 1024 * 1024
    assert big.function_error == "Unhandled"
    assert json.loads(big.payload) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {big.request_id} Error: Runtime exited with error: signal: killed",
    }
    assert "\tStatus: error\tError Type: Runtime.OutOfMemory" in big.log_tail
    assert after.function_error is None


def test_out_of_memory_writes_its_log_line(tmp_path: Path) -> None:
    # Lambda logs why the runtime went away; the line must reach the tail and the log store.
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, memory_mb=128)

    async def scenario(engine: Engine):
        big = await call(engine, spec, {"action": "allocate", "mb": 512}, tail=True)
        return big, engine.logs.query(spec.name)

    big, entries = run_engine(tmp_path, scenario)
    line = f"RequestId: {big.request_id} Error: Runtime exited with error: signal: killed"
    assert json.loads(big.payload)["errorType"] == "Runtime.OutOfMemory"
    assert line in big.log_tail.splitlines()
    logged = [entry for entry in entries if entry["message"] == line]
    assert [(entry["stream"], entry["request_id"]) for entry in logged] == [
        ("platform", big.request_id)
    ]
    messages = [entry["message"] for entry in entries if entry["request_id"] == big.request_id]
    assert messages.index(line) < next(
        i for i, message in enumerate(messages) if message.startswith("END RequestId:")
    )


def test_crash_fails_only_its_own_request_and_is_replaced(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        others = [
            asyncio.ensure_future(call(engine, spec, {"action": "sleep", "seconds": 0.3}))
            for _ in range(2)
        ]
        crashed = await call(engine, spec, {"action": "exit", "code": 3}, tail=True)
        segv = await call(engine, spec, {"action": "segv"})
        survivors = await asyncio.gather(*others)
        after = await call(engine, spec, {})
        return crashed, segv, survivors, after

    crashed, segv, survivors, after = run_engine(tmp_path, scenario)
    assert json.loads(crashed.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {crashed.request_id} Error: Runtime exited with error: exit status 3",
    }
    assert "Runtime exited with error: exit status 3" in crashed.log_tail
    assert json.loads(segv.payload)["errorMessage"].endswith("signal: segmentation fault"), (
        segv.payload,
        segv.log_tail,
    )
    assert [s.function_error for s in survivors] == [None, None]
    assert after.function_error is None


def test_missing_bootstrap_and_unknown_runtime(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})

    async def scenario(engine: Engine):
        missing = await engine.invoke(make_spec(code, runtime="provided.al2023"), b"{}")
        unknown = await engine.invoke(make_spec(code, runtime="nodejs20.x"), b"{}")
        return missing, unknown, engine.status()["instances"]

    missing, unknown, status = run_engine(tmp_path, scenario)
    assert json.loads(missing.payload)["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s)" in json.loads(missing.payload)["errorMessage"]
    assert json.loads(unknown.payload)["errorType"] == "Runtime.InvalidEntrypoint"
    assert status["total"] == 0 and status["concurrent_invocations"] == 0


def test_bootstrap_that_exits_before_polling(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"bootstrap": "#!/bin/sh\necho broken >&2\nexit 2\n"})

    async def scenario(engine: Engine):
        return await engine.invoke(make_spec(code, runtime="provided.al2023"), b"{}", tail=True)

    result = run_engine(tmp_path, scenario)
    assert json.loads(result.payload)["errorType"] == "Runtime.ExitError"
    assert json.loads(result.payload)["errorMessage"].endswith("exit status 2")
    assert "broken" in result.log_tail
