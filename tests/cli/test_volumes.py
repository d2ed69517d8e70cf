"""``[tool.strum.volumes]`` on a local stage, through the CLI: the deploy names the
platform's volume, the function keeps state in it across requests and deploys."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from strum.platform import sandbox
from strum.platform.volumes import volume_arn, volume_id
from tests.cli.test_end_to_end import Client, deployed_url, strum
from tests.platform.conftest import start_platform

pytestmark = pytest.mark.skipif(sandbox.probe().bwrap is None, reason="volumes need the sandbox")

COUNTER = """\
import os

MARK = "{mark}"


def app(environ, start_response):
    path = "/mnt/data/count"
    count = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as handle:
        handle.write(str(count))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{{MARK}} {{count}}".encode()]
"""


def write_project(root: Path, mark: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "counter.py").write_text(COUNTER.format(mark=mark))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "counter"
            version = "0"
            dependencies = []

            [tool.strum]
            app = "counter:app"

            [tool.strum.volumes]
            data = "/mnt/data"
            """
        )
    )
    return root


def test_a_local_stage_keeps_state_in_its_volume(tmp_path: Path) -> None:
    home = tmp_path / "home"
    running = start_platform(home, sandbox=True)
    try:
        root = write_project(tmp_path / "counter", "first")
        url = deployed_url(strum(home, "deploy", "--project", str(root)))
        client = Client()
        assert client.get(url)[2] == b"first 1"
        assert client.get(url)[2] == b"first 2"
        config = running.client().get_function_configuration(FunctionName="counter-dev")
        assert config["FileSystemConfigs"] == [
            {"Arn": volume_arn("us-east-1", "000000000000", "data"), "LocalMountPath": "/mnt/data"}
        ]
        assert (home / "volumes" / volume_id("data") / "count").read_text() == "2"
        write_project(root, "second")
        assert "version 2" in strum(home, "deploy", "--project", str(root))
        assert client.get(url)[2] == b"second 3"
        assert "nothing changed" in strum(home, "deploy", "--project", str(root))
    finally:
        running.stop()
