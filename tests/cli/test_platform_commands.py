"""`strum platform start | status | stop` with a real background platform."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from strum.cli import cli
from strum.platform import daemon, sandbox
from strum.platform.home import Home


def run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["platform", *args, "--home", str(home)])
    return result.exit_code, result.output


def test_start_status_stop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out = run(home, "status")
    assert code == 3
    assert "no platform is running" in out
    code, out = run(home, "start", "--port", "0")
    assert code == 0, out
    assert "platform running at http://127.0.0.1:" in out
    try:
        running = daemon.find_running(Home(home))
        assert running is not None
        code, out = run(home, "status", "--json")
        assert code == 0, out
        document = json.loads(out)
        assert document["running"] is True
        assert document["endpoint"] == running.endpoint
        assert document["engine"]["instances"]["total"] == 0
        isolation = document["engine"]["instances"]["isolation"]
        assert set(isolation["not_enforced"]) == set(sandbox.probe().reasons)
        code, out = run(home, "status")
        assert "sandbox: " in out
        code, out = run(home, "start", "--port", "0")  # already running: same platform
        assert running.endpoint in out
    finally:
        code, out = run(home, "stop")
    assert code == 0
    assert "platform stopped" in out
    assert daemon.find_running(Home(home)) is None
    assert run(home, "stop")[1].strip() == "no platform was running"


def test_refuses_to_listen_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["platform", "run", "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "needs authentication" in result.output


def test_a_platform_without_sandbox_says_what_is_not_enforced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out = run(home, "start", "--port", "0", "--no-sandbox")
    try:
        assert code == 0, out
        assert "not enforced - filesystem: turned off" in out
        assert "not enforced - network: turned off" in out
        code, out = run(home, "status")
        assert "sandbox: rlimits only" in out
    finally:
        run(home, "stop")


def test_the_background_platform_gets_no_credentials_or_secrets() -> None:
    shell = {
        "PATH": "/usr/bin",
        "STRUM_HOME": "/srv/strum",
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzE",
        "DATABASE_URL": "postgres://u:p@db/shop",
        "GITHUB_TOKEN": "ghp_x",
    }
    assert daemon.platform_environment(shell) == {
        "PATH": "/usr/bin",
        "STRUM_HOME": "/srv/strum",
        "AWS_PROFILE": "dev",
    }
