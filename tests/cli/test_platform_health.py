"""`strum platform status` and ``/strum/v1/status`` report a platform that can no longer
start instances as unhealthy, with the reason, and exit non-zero (issue: deploy safety).

Each test breaks a real platform's home the way it breaks in the field: a cleaner removes
what the platform staged for its instances, or a function's unpacked code disappears under
it. A function's own failure (an import error) leaves the platform healthy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from strum.cli import cli
from strum.platform import sandbox
from tests.platform.conftest import start_platform
from tests.platform.packages import create_function, make_zip


def status(home: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["platform", "status", "--home", str(home), *extra])
    return result.exit_code, result.output


def cold_invoke(client, name: str, round_: int) -> dict:
    # A configuration change retires the function's instances: the next invoke starts one.
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"ROUND": str(round_)}}
    )
    answer = client.invoke(FunctionName=name, Payload=b"{}")
    answer["Body"] = answer["Payload"].read()
    return answer


def test_a_removed_tmpdir_root_is_unhealthy_until_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    running = start_platform(home)
    try:
        client = running.client()
        create_function(client, "fine")
        assert "FunctionError" not in cold_invoke(client, "fine", 0)
        code, out = status(home)
        assert code == 0, out
        assert "UNHEALTHY" not in out

        shutil.rmtree(home / "tmp")  # what a careless cleanup of the home does
        assert cold_invoke(client, "fine", 1)["FunctionError"] == "Unhandled"
        code, out = status(home)
        assert code == 4, out
        assert "UNHEALTHY: it cannot start instances" in out
        assert f"the directory of the instances' TMPDIRs is gone ({home / 'tmp'})" in out
        code, out = status(home, "--json")
        assert code == 4
        health = json.loads(out)["health"]
        assert health["healthy"] is False
        assert any("restart the platform" in reason for reason in health["reasons"])
    finally:
        running.stop()
    running = start_platform(home)
    try:
        assert status(home)[0] == 0
        assert "FunctionError" not in cold_invoke(running.client(), "fine", 2)
    finally:
        running.stop()


def test_failed_starts_in_a_row_are_unhealthy_and_function_errors_are_not(tmp_path: Path):
    home = tmp_path / "home"
    running = start_platform(home)
    try:
        client = running.client()
        create_function(
            client, "broken", Code={"ZipFile": make_zip({"app.py": "import not_installed\n"})}
        )
        for round_ in range(4):
            answer = cold_invoke(client, "broken", round_)
            assert json.loads(answer["Body"])["errorType"] == "Runtime.ImportModuleError"
        assert status(home)[0] == 0  # the function's error, not the platform's

        pid_source = "import os\n\ndef handler(event, context):\n    return os.getpid()\n"
        create_function(client, "lost", Code={"ZipFile": make_zip({"app.py": pid_source})})
        answer = client.invoke(FunctionName="lost")
        pid = json.loads(answer["Payload"].read())
        for unpacked in (home / "unpacked").iterdir():
            if unpacked.is_dir():
                shutil.rmtree(unpacked)  # the unpacked packages vanish under the platform
        os.kill(pid, signal.SIGKILL)  # and its instance dies: it cannot be replaced
        deadline = time.monotonic() + 30
        while _exists(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        for _ in range(3):
            answer = client.invoke(FunctionName="lost")
            assert answer["FunctionError"] == "Unhandled"
            assert b"cannot start" in answer["Payload"].read()
        code, out = status(home)
        assert code == 4, out
        assert "the last 3 instance starts failed for the platform's reasons" in out
    finally:
        running.stop()


CAPS = sandbox.probe()


@pytest.mark.skipif(CAPS.run_as is None, reason="the sandbox stages sources only as root")
def test_removed_staged_sandbox_sources_are_unhealthy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    running = start_platform(home, sandbox=True)
    try:
        client = running.client()
        create_function(client, "boxed")
        assert "FunctionError" not in cold_invoke(client, "boxed", 0)
        staged = running.platform.engine.launcher._mounts
        assert staged is not None and staged.root.parent == Path(tempfile.gettempdir())
        # What systemd-tmpfiles or a tmp cleaner does to an old directory in /tmp.
        shutil.rmtree(staged.root)
        cold_invoke(client, "boxed", 1)
        code, out = status(home)
        assert code == 4, out
        assert "the sandbox's staged sources is gone" in out
    finally:
        running.stop()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
