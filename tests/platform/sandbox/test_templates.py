"""Templates, for real: cold starts of a sandboxed platform fork an initialised template.

One sandboxed platform for the module. Each cold start is forced by stopping the warm
instances first; what the instances report (their /tmp, PIDs, random numbers, hook calls)
is read through real invocations.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
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

def second_after(word, suffix=""):
    CALLS.append("after-2" + word + suffix)

register_after_restore(second_after, "!", suffix="?")  # called with what it was given

def handler(event, context):
    action = event.get("action")
    time.sleep(event.get("hold", 0))
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


def runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(
        tmp_path_factory.mktemp("templates") / "home", sandbox=True, cold_starts_before_template=0
    )
    client = running.client()
    code = make_zip({"app.py": APP})
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


def test_instances_have_their_own_tmp_and_pids(platform: RunningPlatform) -> None:
    cold(platform, "forked", {})

    def writer() -> Any:
        return invoke(platform, "forked", {"action": "write", "text": "A", "hold": 1.5})

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(writer)
        deadline = time.monotonic() + 10
        engine = platform.platform.engine
        while not any(
            i.invocation is not None and i.invocation.delivered_at
            for i in list(engine._instances)
            if i.spec.name == "forked"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = invoke(platform, "forked", {})  # a new instance: the first is busy
        assert first.result()["mine"] == "A"
    assert second["mine"] is None and second["tmp"] == []
    assert second["pids"] == ["1"]


def test_memory_is_limited_per_forked_instance(platform: RunningPlatform) -> None:
    cold(platform, "forked", {})
    engine = platform.platform.engine
    instance = next(i for i in engine._instances if i.spec.name == "forked")
    assert instance.restored_from_template and instance.cgroup is not None
    memberships = Path(f"/proc/{instance.pid}/cgroup").read_text()
    assert (
        f":memory:/{instance.cgroup.memory.relative_to(instance.cgroup.memory.parents[1]).as_posix()}"
        in memberships
        or instance.cgroup.memory.name in memberships
    )
    limit = int((instance.cgroup.memory / "memory.limit_in_bytes").read_text())
    assert limit == (128 + 512) * 1024 * 1024
    failed = invoke(platform, "forked", {"action": "heap", "size": 300 * 1024 * 1024})
    assert failed["function_error"]["errorType"] == "Runtime.OutOfMemory"
    assert invoke(platform, "forked", {}).get("calls")  # the next cold start still forks


def test_kill_9_of_a_template_is_recovered(platform: RunningPlatform) -> None:
    cold(platform, "forked", {})
    pid = template_of(platform, "forked")["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while template_of_or_none(platform, "forked", pid) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    result = cold(platform, "forked", {})
    assert result.get("calls") == ["before-2", "before-1", "after-1", "after-2!?"], result
    assert template_of(platform, "forked")["pid"] != pid


def template_of_or_none(running: RunningPlatform, name: str, pid: int) -> Any:
    status = running.platform.engine.status()["instances"]["templates"]
    return next((t for t in status["templates"] if t["pid"] == pid), None)


def test_a_code_update_retires_the_template(platform: RunningPlatform) -> None:
    client = platform.client()
    client.create_function(
        FunctionName="updated", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})},
    )  # fmt: skip
    assert invoke(platform, "updated", {}) == 1
    old = template_of(platform, "updated")["pid"]
    client.update_function_code(
        FunctionName="updated",
        ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 2\n"}),
    )
    assert invoke(platform, "updated", {}) == 2
    deadline = time.monotonic() + 10
    while template_of_or_none(platform, "updated", old) is not None or _alive(old):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert template_of(platform, "updated")["pid"] != old


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_failing_after_restore_hook_fails_the_invoke(platform: RunningPlatform) -> None:
    code = (
        "from snapshot_restore_py import register_after_restore\n"
        "@register_after_restore\n"
        "def reconnect():\n"
        "    raise ConnectionError('database unreachable')\n"
        "def handler(e, c):\n"
        "    return 'never'\n"
    )
    client = platform.client()
    client.create_function(
        FunctionName="hooked", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )  # fmt: skip
    with pytest.raises(client.exceptions.SnapStartException) as raised:
        client.invoke(FunctionName="hooked", Payload=b"{}")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    logs = "\n".join(e["message"] for e in platform.platform.engine.logs.query("hooked"))
    assert "ConnectionError: database unreachable" in logs and 'File "/var/task/app.py"' in logs


def test_restore_and_hooks_are_bounded(platform: RunningPlatform) -> None:
    code = (
        "import time\n"
        "from snapshot_restore_py import register_after_restore\n"
        "register_after_restore(time.sleep, 30)\n"
        "def handler(e, c):\n"
        "    return 'never'\n"
    )
    client = platform.client()
    client.create_function(
        FunctionName="slow-hook", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})}, Timeout=60,
    )  # fmt: skip
    templates = platform.platform.engine.templates
    templates.restore_timeout_s = 1.0  # AWS's is 10 s
    try:
        with pytest.raises(client.exceptions.SnapStartTimeoutException):
            client.invoke(FunctionName="slow-hook", Payload=b"{}")
    finally:
        templates.restore_timeout_s = 10.0


def test_a_template_whose_init_fails_keeps_the_error(platform: RunningPlatform) -> None:
    client = platform.client()
    client.create_function(
        FunctionName="broken", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "x = 1\ndef handler(e, c)\n    return 1\n"})},
    )  # fmt: skip
    failed = invoke(platform, "broken", {"strum": "ping"})["function_error"]
    # The old path reports it, as before: the user's file and line.
    assert failed["errorType"] == "Runtime.UserCodeSyntaxError"
    assert 'app.py" Line 2' in failed["stackTrace"][0]
    error = template_of(platform, "broken")["error"]
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "Line 2" in error["stackTrace"][0]


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


def test_the_template_reports_its_init(platform: RunningPlatform) -> None:
    cold(platform, "forked", {})
    logs = [e["message"] for e in platform.platform.engine.logs.query("forked")]
    assert any(line.startswith("INIT_REPORT Init Duration: ") for line in logs)
    assert template_of(platform, "forked")["init_ms"] > 0


def test_custom_runtimes_keep_the_old_path(platform: RunningPlatform) -> None:
    spec = platform.platform.store.version_spec("forked", "$LATEST")
    templates = platform.platform.engine.templates
    assert templates.eligible(spec)
    assert not templates.eligible(dataclasses.replace(spec, runtime="provided.al2023"))
    assert not templates.eligible(dataclasses.replace(spec, files=("/tmp/shared",)))


def test_what_init_puts_in_the_environment_stays(platform: RunningPlatform) -> None:
    code = (
        "import os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
        "def handler(e, c):\n"
        "    return [os.environ.get('DJANGO_SETTINGS_MODULE'), os.environ['AWS_LAMBDA_RUNTIME_API']]\n"
    )
    platform.client().create_function(
        FunctionName="setenv", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )  # fmt: skip
    first = cold(platform, "setenv", {})
    second = cold(platform, "setenv", {})
    assert first[0] == second[0] == "mysite.settings"
    assert first[1].startswith("127.0.0.1:")  # the instance's own Runtime API address


def test_status_shows_proportional_memory(platform: RunningPlatform) -> None:
    from strum.cli.platform_commands import _template_lines

    cold(platform, "forked", {})
    templates = platform.platform.engine.status()["instances"]["templates"]
    template = next(t for t in templates["templates"] if t["function"] == "forked")
    assert template["pss_kb"] > 0 and all(kb > 0 for kb in template["instances_pss_kb"])
    lines = _template_lines(templates)
    assert lines[0].startswith("cold starts: forked from initialised templates")
    assert any("template forked:$LATEST: PSS" in line and "MB each" in line for line in lines)


def test_a_template_that_stops_answering_does_not_stall_cold_starts(
    platform: RunningPlatform,
) -> None:
    # The template runs the function's init, and its code may stop the template itself.
    code = (
        "import os, signal, threading\n"
        "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGSTOP)).start()\n"
        "def handler(e, c):\n"
        "    return os.getpid()\n"
    )
    platform.client().create_function(
        FunctionName="stopper", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )  # fmt: skip
    templates = platform.platform.engine.templates
    templates.restore_timeout_s = 1.0
    try:
        invoke(platform, "stopper", {})  # the first fork may beat the timer
        time.sleep(0.5)
        client = platform.client()
        started = time.monotonic()
        # Its spare was ready before it stopped: that cold start cannot restore, and fails
        # as on AWS; the stopped template is replaced, and cold starts go on.
        with contextlib.suppress(client.exceptions.SnapStartTimeoutException):
            cold(platform, "stopper", {})
        assert isinstance(cold(platform, "stopper", {}), int)
        assert time.monotonic() - started < 20
        assert templates.reason() is None  # templates stay on for everyone else
    finally:
        templates.restore_timeout_s = 10.0


def test_by_default_a_versions_first_cold_start_is_a_new_interpreter_and_the_second_forks(
    tmp_path: Path,
) -> None:
    # Most versions a deploy publishes see one cold start (its start check): a template for
    # it would be a second interpreter running the app's init (engine.templates).
    running = start_platform(tmp_path / "home", sandbox=True)
    try:
        running.client().create_function(
            FunctionName="once", Runtime=runtime(), Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": APP})}, Timeout=30, MemorySize=128,
        )  # fmt: skip
        cold(running, "once", {})
        assert running.platform.engine.templates.status()["templates"] == []
        second = cold(running, "once", {})
        assert "function_error" not in second
        assert template_of(running, "once")["cold_starts_forked"] == 1
    finally:
        running.stop()
