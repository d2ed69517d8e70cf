"""Templates, for real: cold starts of a sandboxed platform fork an initialised template.

One sandboxed platform for the module. Each cold start is forced by stopping the warm
instances first; what the instances report (their /tmp, PIDs, random numbers, hook calls)
is read through real invocations.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from strum.platform import sandbox
from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import make_zip

CAPS = sandbox.probe()
pytestmark = pytest.mark.skipif(
    CAPS.bwrap is None, reason=f"no sandbox here: {CAPS.reasons.get('filesystem')}"
)
ROLE = "arn:aws:iam::000000000000:role/templates"

APP = r"""
import os, random, time
from snapshot_restore_py import register_after_restore, register_before_snapshot

CALLS = []
INIT_PID = os.getpid()
open("/tmp/from-init", "w").write("init")

@register_before_snapshot
def first_before():
    CALLS.append("before-1")

@register_before_snapshot
def second_before():
    CALLS.append("before-2")

@register_after_restore
def first_after():
    CALLS.append("after-1")

@register_after_restore
def second_after(word, suffix=""):
    CALLS.append("after-2" + word + suffix)

def handler(event, context):
    action = event.get("action")
    if action == "write":
        with open("/tmp/mine", "w") as handle:
            handle.write(event["text"])
    if action == "heap":
        return len(bytearray(event["size"]))
    mine = open("/tmp/mine").read() if os.path.exists("/tmp/mine") else None
    return {
        "calls": CALLS, "pid": os.getpid(), "random": random.random(), "mine": mine,
        "tmp": sorted(os.listdir("/tmp")), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
        "uid": os.getuid(),
    }
"""
APP = APP.replace("register_after_restore\ndef second_after", "register_after_restore\ndef second_after")


def runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("templates") / "home", sandbox=True)
    client = running.client()
    code = make_zip({"app.py": APP.replace(
        "@register_after_restore\ndef second_after", "def second_after")
        + "\nregister_after_restore(second_after, '!', suffix='?')\n"})
    client.create_function(
        FunctionName="forked", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code}, Timeout=30, MemorySize=128,
    )  # fmt: skip
    yield running
    running.stop()


def invoke(running: RunningPlatform, name: str, event: dict[str, Any]) -> Any:
    response = running.client().invoke(FunctionName=name, Payload=json.dumps(event).encode())
    document = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        return {"function_error": document}
    return document


def cold(running: RunningPlatform, name: str, event: dict[str, Any]) -> Any:
    """Invoke on a new instance: the warm ones are stopped first."""
    engine = running.platform.engine

    async def stop_warm() -> None:
        instances = [i for i in engine._instances if i.spec.name == name]
        for instance in instances:
            engine._remove_idle(instance)
            instance.stop()
        for instance in instances:
            await instance.exited

    running.call(stop_warm())
    return invoke(running, name, event)


def template_of(running: RunningPlatform, name: str) -> dict[str, Any]:
    status = running.platform.engine.status()["instances"]["templates"]
    assert status["enabled"], status
    return next(t for t in status["templates"] if t["function"] == name)


def test_a_template_serves_many_cold_starts(platform: RunningPlatform) -> None:
    seen = [cold(platform, "forked", {}) for _ in range(5)]
    assert template_of(platform, "forked")["cold_starts_forked"] >= 5
    # Hooks: before-snapshot once in the template, last registered first; after-restore
    # in each instance, first registered first, with the arguments it was registered with.
    for result in seen:
        assert result.get("calls") == ["before-2", "before-1", "after-1", "after-2!?"], result
        assert result["uid"] == 65534
        assert result["pid"] == 1  # PID 1 of a namespace of its own
        assert result["pids"] == ["1"]  # sees no other process
        assert result["tmp"] == []  # not the template's /tmp (init wrote one there)
    assert len({result["random"] for result in seen}) == len(seen)


def test_instances_have_their_own_tmp(platform: RunningPlatform) -> None:
    engine = platform.platform.engine
    first = cold(platform, "forked", {"action": "write", "text": "one"})
    assert first["mine"] == "one"
    # A second instance, while the first stays warm: busy-wait is not needed, two at once.
    import concurrent.futures

    def slow(text: str) -> Any:
        return invoke(platform, "forked", {"action": "write", "text": text})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(slow, ["a", "b", "c", "d"]))
    assert {r["mine"] for r in results} <= {"a", "b", "c", "d", "one"}
    assert len([i for i in engine._instances if i.spec.name == "forked"]) >= 1


def test_restore_duration_replaces_init_duration(platform: RunningPlatform) -> None:
    cold(platform, "forked", {})
    engine = platform.platform.engine

    async def stop_warm() -> None:
        for instance in [i for i in engine._instances if i.spec.name == "forked"]:
            engine._remove_idle(instance)
            instance.stop()
            await instance.exited

    platform.call(stop_warm())
    response = platform.client().invoke(FunctionName="forked", Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    report = next(line for line in tail.splitlines() if line.startswith("REPORT"))
    assert "\tRestore Duration: " in report and "Init Duration" not in report
