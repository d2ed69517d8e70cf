"""``strum dev`` end to end: a real ``strum dev`` process against a real platform.

The platform runs in this process (ephemeral port, temporary ``$STRUM_HOME``); ``strum dev``
runs as a subprocess, the test edits the project's files and polls the function's URL with a
deadline until the new body answers, and stops it with SIGINT as Ctrl-C would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from strum.cli import cli
from tests.platform.conftest import RunningPlatform, start_platform

APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"BODY"]
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("strum-home"))
    yield running
    running.stop()


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    name = "dev" + request.node.name.replace("test_", "").replace("_", "")[:20]
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n[tool.strum]\napp = "app:app"\n'
    )
    (root / "app.py").write_text(APP.replace("BODY", "one"))
    return root


def home_env(platform: RunningPlatform) -> dict[str, str]:
    return {"STRUM_HOME": str(platform.platform.home.root), "NO_COLOR": "1"}


class DevProcess:
    """``strum dev`` in a subprocess; its output collected line by line."""

    def __init__(self, platform: RunningPlatform, project: Path, *args: str) -> None:
        env = {**os.environ, **home_env(platform), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "strum", "dev", "--project", str(project), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """The first line containing ``text`` (waiting for it up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line with {text!r} in:\n{self.output}")
                self._changed.wait(min(left, 0.5))

    def interrupt(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def dev_process() -> Iterator[list[DevProcess]]:
    started: list[DevProcess] = []
    yield started
    for process in started:
        process.kill()


def body(url: str) -> bytes | None:
    """The body ``url`` answers (None while it does not). A stage's stable
    ``<stage>.<project>.localhost`` URL is asked of 127.0.0.1 with its Host header, as
    curl and browsers resolve it (Python's resolver here may not)."""
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(url)
    if (parts.hostname or "").endswith(".localhost"):
        request = urllib.request.Request(
            parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl(),
            headers={"Host": parts.netloc},
        )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError):
        return None


def serves(url: str, expected: bytes, timeout: float) -> float:
    """Seconds until ``url`` answers ``expected``; fails after ``timeout``."""
    started = time.perf_counter()
    while body(url) != expected:
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"{url} did not answer {expected!r} within {timeout} s")
        time.sleep(0.01)
    return time.perf_counter() - started


def function_named(platform: RunningPlatform, prefix: str) -> dict:
    functions = platform.client().list_functions()["Functions"]
    return next(f for f in functions if f["FunctionName"].startswith(prefix))


def edit(project: Path, text: str) -> None:
    (project / "app.py").write_text(APP.replace("BODY", text))


def test_a_save_serves_the_new_code_within_a_second_and_ctrl_c_removes_the_new_stage(
    platform: RunningPlatform, project: Path, dev_process: list[DevProcess]
) -> None:
    dev = DevProcess(platform, project)
    dev_process.append(dev)
    url = dev.wait_for("http://").strip()
    dev.wait_for("watching")
    assert body(url) == b"one"

    edit(project, "two")
    assert serves(url, b"two", timeout=1.0) < 1.0
    dev.wait_for("reloaded (app.py)")
    # The function's own log lines come inline.
    dev.wait_for("REPORT RequestId")
    assert dev.output.count(url) == 1  # the URL is printed once

    # A syntax error: the terminal shows the file and line, the old code keeps serving.
    (project / "app.py").write_text(APP.replace('[b"BODY"]', '[[b"three"]'))
    dev.wait_for("failed to start")
    line = dev.wait_for('File "app.py"')
    assert "3" in line
    dev.wait_for("the previous code keeps serving")
    assert body(url) == b"two"

    # An import error likewise, then a fix serves again.
    (project / "app.py").write_text("import not_a_module_anywhere\n" + APP)
    dev.wait_for("not_a_module_anywhere")
    assert body(url) == b"two"
    edit(project, "four")
    serves(url, b"four", timeout=5)

    assert dev.interrupt() == 0, dev.output
    # The stage did not exist before `strum dev`: it is gone again.
    assert not [
        f
        for f in platform.client().list_functions()["Functions"]
        if f["FunctionName"].startswith("devasave")
    ]


def test_ctrl_c_puts_a_deployed_stage_back_as_it_was(
    platform: RunningPlatform, project: Path, dev_process: list[DevProcess]
) -> None:
    result = CliRunner().invoke(cli, ["deploy", "--project", str(project)], env=home_env(platform))
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    client = platform.client()
    name = function_named(platform, "devctrlc")["FunctionName"]
    before = client.get_function(FunctionName=name)["Configuration"]

    dev = DevProcess(platform, project)
    dev_process.append(dev)
    dev.wait_for("watching")
    edit(project, "two")
    serves(url, b"two", timeout=5)
    edit(project, "three")
    serves(url, b"three", timeout=5)
    # An IDE's stop button (SIGTERM) restores like Ctrl-C.
    assert dev.interrupt(signal.SIGTERM) == 0, dev.output

    assert body(url) == b"one"
    assert client.get_alias(FunctionName=name, Name="dev")["FunctionVersion"] == "1"
    versions = [
        v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]
    ]
    assert versions == ["$LATEST", "1"]
    after = client.get_function(FunctionName=name)["Configuration"]
    assert after["CodeSha256"] == before["CodeSha256"]


def test_keep_leaves_the_last_good_version_serving(
    platform: RunningPlatform, project: Path, dev_process: list[DevProcess]
) -> None:
    dev = DevProcess(platform, project, "--keep")
    dev_process.append(dev)
    url = dev.wait_for("http://").strip()
    dev.wait_for("watching")
    edit(project, "two")
    serves(url, b"two", timeout=5)
    assert dev.interrupt() == 0, dev.output
    dev.wait_for("kept")

    assert body(url) == b"two"
    client = platform.client()
    name = function_named(platform, "devkeep")["FunctionName"]
    versions = [
        v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]
    ]
    # The version the session superseded is gone; the one serving stays.
    assert versions == ["$LATEST", "2"]
    client.delete_function(FunctionName=name)


def test_a_dependency_change_reads_the_config_again(
    platform: RunningPlatform, project: Path, dev_process: list[DevProcess]
) -> None:
    dev = DevProcess(platform, project)
    dev_process.append(dev)
    dev.wait_for("watching")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "memory = 256\n")
    dev.wait_for("rebuilt everything (pyproject.toml)")
    assert function_named(platform, "devadependency")["MemorySize"] == 256
    assert dev.interrupt() == 0, dev.output


def test_a_project_that_starts_broken_serves_once_it_is_fixed(
    platform: RunningPlatform, project: Path, dev_process: list[DevProcess]
) -> None:
    (project / "app.py").write_text("def app(:\n")
    dev = DevProcess(platform, project)
    dev_process.append(dev)
    dev.wait_for("failed to start")
    dev.wait_for("watching")
    edit(project, "fixed")
    url = dev.wait_for("http://").strip()
    serves(url, b"fixed", timeout=5)
    # A config that cannot be read is shown too, and the code keeps serving.
    pyproject = project / "pyproject.toml"
    good = pyproject.read_text()
    pyproject.write_text(good + "memory = 'lots'\n")
    dev.wait_for("tool.strum.memory: must be a whole number")
    assert body(url) == b"fixed"
    assert dev.output.count(url) == 1
    assert dev.interrupt() == 0, dev.output
