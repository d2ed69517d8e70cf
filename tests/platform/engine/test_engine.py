"""The engine with strum's runtime: results, environment, warm pools, throttling, logs."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from strum.platform.engine import Engine
from strum.platform.errors import TooManyRequests

from .engine_support import HELLO, eventually, make_spec, pid_alive, run_engine, write_code

APP = """
import os, time

def handler(event, context):
    print("got", event.get("n"))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "pid": os.getpid(),
        "n": event.get("n"),
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "STRUM_", "GREETING", "TMPDIR", "TZ"))},
        "cwd": os.getcwd(),
    }
"""


def invoke_json(engine: Engine, spec, event, **kwargs):
    async def call():
        result = await engine.invoke(spec, json.dumps(event).encode(), **kwargs)
        return result, json.loads(result.payload)

    return call()


def test_result_context_and_environment(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, environment=(("GREETING", "hi"),), memory_mb=256, timeout_s=7)

    async def scenario(engine: Engine):
        return await invoke_json(engine, spec, {"n": 1}, request_id="req-1")

    result, body = run_engine(tmp_path, scenario)
    assert result.function_error is None
    assert result.request_id == "req-1" == body["request_id"]
    assert result.executed_version == "$LATEST"
    assert 0 < body["remaining"] <= 7000
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]+", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(code) == body["cwd"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["GREETING"] == "hi"
    assert env["TZ"] == ":UTC"
    assert "STRUM_PLATFORM_API" in env
    assert Path(env["TMPDIR"]).is_relative_to(tmp_path / "home")


def test_an_instance_is_not_reused_once_its_credentials_near_expiry(tmp_path, monkeypatch):
    from strum.platform.engine import engine as engine_module

    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        _, first = await invoke_json(engine, spec, {"n": 1})
        _, warm = await invoke_json(engine, spec, {"n": 2})
        monkeypatch.setattr(engine_module, "MAX_INSTANCE_AGE_S", 0.0)
        _, fresh = await invoke_json(engine, spec, {"n": 3})
        return first, warm, fresh

    first, warm, fresh = run_engine(tmp_path, scenario)
    assert first["pid"] == warm["pid"]
    assert fresh["pid"] != first["pid"]


def test_warm_reuse_and_cold_start_only_when_none_idle(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        _, first = await invoke_json(engine, spec, {"n": 1})
        _, second = await invoke_json(engine, spec, {"n": 2})
        # Two at once: one request per instance, so the second needs a new instance.
        both = await asyncio.gather(
            invoke_json(engine, spec, {"n": 3, "sleep": 0.3}),
            invoke_json(engine, spec, {"n": 4, "sleep": 0.3}),
        )
        status = engine.status()["instances"]
        # A new configuration never reuses instances of the old one.
        _, changed = await invoke_json(engine, make_spec(code, config_revision="r2"), {"n": 5})
        return first, second, [b for _, b in both], status, changed

    first, second, both, status, changed = run_engine(tmp_path, scenario)
    assert first["pid"] == second["pid"]
    assert {b["pid"] for b in both} == {first["pid"], both[1]["pid"]}
    assert both[0]["pid"] != both[1]["pid"]
    assert status["cold_starts"] == 2
    assert status["functions"]["fn"]["$LATEST"] == {"busy": 0, "idle": 2, "starting": 0}
    assert changed["pid"] not in {b["pid"] for b in both}


def test_reserved_concurrency_throttles_with_aws_reason(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, reserved_concurrency=1)

    async def scenario(engine: Engine):
        slow = asyncio.ensure_future(invoke_json(engine, spec, {"sleep": 0.5}))
        await eventually(lambda: engine.status()["instances"]["concurrent_invocations"])
        with pytest.raises(TooManyRequests) as throttled:
            await engine.invoke(spec, b"{}")
        await slow
        with pytest.raises(TooManyRequests) as zero:
            await engine.invoke(make_spec(code, reserved_concurrency=0), b"{}")
        return throttled.value, zero.value

    throttled, zero = run_engine(tmp_path, scenario)
    assert throttled.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert str(throttled) == "Rate Exceeded."
    assert zero.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_platform_wide_limit_throttles(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})

    async def scenario(engine: Engine):
        slow = asyncio.ensure_future(invoke_json(engine, make_spec(code, name="a"), {"sleep": 0.5}))
        await eventually(lambda: engine.status()["instances"]["concurrent_invocations"])
        with pytest.raises(TooManyRequests) as throttled:
            await engine.invoke(make_spec(code, name="b"), b"{}")
        await slow
        return throttled.value

    assert run_engine(tmp_path, scenario, max_concurrency=1).reason == (
        "ConcurrentInvocationLimitExceeded"
    )


def test_idle_instances_are_reaped(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        _, body = await invoke_json(engine, spec, {})
        await eventually(lambda: engine.status()["instances"]["total"] == 0)
        await eventually(lambda: not pid_alive(body["pid"]))
        _, again = await invoke_json(engine, spec, {})
        return body, again, engine.status()["instances"]

    body, again, status = run_engine(tmp_path, scenario, idle_timeout_s=0.2)
    assert again["pid"] != body["pid"]
    assert status["cold_starts"] == 2


def test_retire_stops_idle_instances_now_and_busy_ones_after(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        _, idle = await invoke_json(engine, spec, {})
        busy_call = asyncio.ensure_future(invoke_json(engine, spec, {"sleep": 0.3}))
        await eventually(lambda: engine.status()["instances"]["busy"])
        engine.retire("fn")
        result, busy = await busy_call
        await eventually(lambda: not pid_alive(busy["pid"]) and not pid_alive(idle["pid"]))
        return result

    assert run_engine(tmp_path, scenario).function_error is None


def test_start_end_report_lines_with_init_duration_on_cold_start_only(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code, memory_mb=512)

    async def scenario(engine: Engine):
        cold, _ = await invoke_json(engine, spec, {"n": 1}, tail=True)
        warm, _ = await invoke_json(engine, spec, {"n": 2}, tail=True)
        return cold, warm, engine.logs.query("fn", None, None, 100)

    cold, warm, entries = run_engine(tmp_path, scenario)
    report = (
        r"REPORT RequestId: {id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 512 MB\tMax Memory Used: \d+ MB"
    )
    cold_lines = cold.log_tail.splitlines()
    assert cold_lines[0] == f"START RequestId: {cold.request_id} Version: $LATEST"
    assert cold_lines[1] == "got 1"
    assert cold_lines[2] == f"END RequestId: {cold.request_id}"
    assert re.fullmatch(
        report.format(id=cold.request_id) + r"\tInit Duration: \d+\.\d\d ms", cold_lines[3]
    )
    warm_lines = warm.log_tail.splitlines()
    assert re.fullmatch(report.format(id=warm.request_id), warm_lines[3])
    assert int(re.search(r"Max Memory Used: (\d+)", warm_lines[3])[1]) >= 5
    mine = [e for e in entries if e["request_id"] == warm.request_id]
    assert [e["stream"] for e in mine] == ["platform", "stdout", "platform", "platform"]
    assert [e["message"] for e in mine] == warm_lines
    assert all(e["function"] == "fn" and e["version"] == "$LATEST" for e in mine)


def test_tail_is_the_last_4_kb(tmp_path: Path) -> None:
    code = write_code(
        tmp_path / "code",
        {
            "app.py": "def handler(event, context):\n    for i in range(200):\n        print('line', i, 'x' * 40)\n"
        },
    )

    async def scenario(engine: Engine):
        return await engine.invoke(make_spec(code), b"{}", tail=True)

    result = run_engine(tmp_path, scenario)
    assert len(result.log_tail.encode()) == 4096
    assert result.log_tail.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId:")
    assert "line 199" in result.log_tail and "line 0 " not in result.log_tail


def test_logs_query_by_time_and_follow(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": APP})
    spec = make_spec(code)

    async def scenario(engine: Engine):
        first, _ = await invoke_json(engine, spec, {"n": 1})
        entries = engine.logs.query("fn", None, None, 100)
        middle = entries[-1]["time"] + 1e-6
        followed = []

        async def follow():
            async for entry in engine.logs.follow("fn", since=middle):
                followed.append(entry)
                if entry["message"].startswith("REPORT"):
                    return

        follower = asyncio.ensure_future(follow())
        await asyncio.sleep(0)
        second, _ = await invoke_json(engine, spec, {"n": 2})
        await asyncio.wait_for(follower, 10)
        later = engine.logs.query("fn", middle, None, 100)
        limited = engine.logs.query("fn", None, None, 2)
        return first, second, followed, later, limited, engine.logs.query("other", None, None, 10)

    _first, second, followed, later, limited, other = run_engine(tmp_path, scenario)
    assert {e["request_id"] for e in followed} == {second.request_id}
    assert [e["message"] for e in followed][:2] == [
        f"START RequestId: {second.request_id} Version: $LATEST",
        "got 2",
    ]
    assert {e["request_id"] for e in later} == {second.request_id}
    assert [e["message"].split()[0] for e in limited] == ["END", "REPORT"]
    assert other == []


def test_logs_persist_in_sqlite(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": HELLO})

    async def scenario(engine: Engine):
        return await engine.invoke(make_spec(code), b"1")

    result = run_engine(tmp_path, scenario)

    async def reopen(engine: Engine):
        return engine.logs.query("fn", None, None, 10)

    entries = run_engine(tmp_path, reopen)
    assert entries[0]["message"] == f"START RequestId: {result.request_id} Version: $LATEST"


def test_init_error_is_the_invocation_result(tmp_path: Path) -> None:
    code = write_code(tmp_path / "code", {"app.py": "import no_such_module\n"})

    async def scenario(engine: Engine):
        result = await engine.invoke(make_spec(code), b"{}", tail=True)
        await eventually(lambda: engine.status()["instances"]["total"] == 0)
        return result

    result = run_engine(tmp_path, scenario)
    assert result.function_error == "Unhandled"
    document = json.loads(result.payload)
    assert document["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in document["errorMessage"]
    assert "Init Duration" not in result.log_tail


def test_handler_error(tmp_path: Path) -> None:
    code = write_code(
        tmp_path / "code",
        {"app.py": "def handler(event, context):\n    raise ValueError('bad input')\n"},
    )

    async def scenario(engine: Engine):
        spec = make_spec(code)
        failed = await engine.invoke(spec, b"{}")
        # A handled error does not cost the instance.
        return failed, engine.status()["instances"]["idle"]

    failed, idle = run_engine(tmp_path, scenario)
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload)["errorType"] == "ValueError"
    assert idle == 1


def test_status_names_the_enforcement_mechanisms(tmp_path: Path) -> None:
    async def scenario(engine: Engine):
        return engine.status()

    isolation = run_engine(tmp_path, scenario)["instances"]["isolation"]
    assert "RLIMIT_DATA" in isolation["rlimits"]
    assert isolation["cgroups"] is False and isolation["network_namespace"] is False
    assert "--no-sandbox" in isolation["not_enforced"]["filesystem"]
