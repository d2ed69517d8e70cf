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
        assert "it was already running, so the options given were not applied" in out
    finally:
        code, out = run(home, "stop")
    assert code == 0
    assert "platform stopped" in out
    assert daemon.find_running(Home(home)) is None
    assert run(home, "stop")[1].strip() == "no platform was running"


def test_refuses_to_listen_beyond_loopback_without_tls(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["platform", "run", "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without TLS" in result.output
    assert "--tls-name" in result.output


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


def test_credentials_keys_and_audit_through_the_cli_and_the_aws_cli(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    code, out = run(home, "start", "--port", "0", "--no-sandbox")
    assert code == 0, out
    try:
        code, out = run(home, "credentials", "--json")
        assert code == 0, out
        values = json.loads(out)
        running = daemon.find_running(Home(home))
        assert running is not None
        assert values["AWS_ENDPOINT_URL_LAMBDA"] == running.endpoint
        assert values["AWS_ACCESS_KEY_ID"].startswith("AKIA")
        # The AWS CLI, configured only by what `strum platform credentials --env` prints.
        code, exports = run(home, "credentials", "--env")
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
        for line in exports.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value
        # The AWS CLI installed with the test dependencies, beside this interpreter.
        aws = str(Path(sys.executable).parent / "aws")
        listed = subprocess.run(
            [aws, "lambda", "list-functions", "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["Functions"] == []
        # A key limited to reading one function cannot list: the AWS CLI shows AWS's error.
        policy = json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "lambda:GetFunction",
                        "Resource": "arn:aws:lambda:*:*:function:shop",
                    }
                ]
            }
        )
        code, out = run(home, "keys", "create", "reader", "--policy", policy, "--json")
        assert code == 0, out
        reader = json.loads(out)
        env |= {
            "AWS_ACCESS_KEY_ID": reader["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": reader["SecretAccessKey"],
        }
        denied = subprocess.run(
            [aws, "lambda", "list-functions"], env=env, capture_output=True, text=True, timeout=120
        )
        assert denied.returncode != 0
        assert "AccessDeniedException" in denied.stderr
        assert "user/reader is not authorized to perform: lambda:ListFunctions" in denied.stderr
        code, out = run(home, "keys", "list")
        assert "reader" in out and "Active" in out and reader["SecretAccessKey"] not in out
        code, out = run(home, "keys", "revoke", "reader")
        assert code == 0 and "revoked" in out
        gone = subprocess.run(
            [aws, "lambda", "list-functions"], env=env, capture_output=True, text=True, timeout=120
        )
        assert "UnrecognizedClientException" in gone.stderr
        code, out = run(home, "audit", "--since", "10m")
        assert code == 0, out
        assert "denied: AccessDeniedException" in out and "lambda:ListFunctions" in out
        assert "strum:CreateAccessKey" in out
        code, out = run(home, "keys", "create", "bad", "--policy", '{"Statement": []}')
        assert code != 0
        assert "a policy needs at least one statement" in out
    finally:
        run(home, "stop")


def test_off_loopback_the_platform_serves_tls_pinned_by_its_own_certificate(
    tmp_path: Path,
) -> None:
    import boto3
    from botocore.config import Config

    home = tmp_path / "home"
    code, out = run(
        home, "start", "--host", "127.0.0.2", "--port", "0", "--tls-name", "127.0.0.2",
        "--no-sandbox",
    )  # fmt: skip
    assert code == 0, out
    try:
        assert "platform running at https://127.0.0.2:" in out
        assert "TLS certificate SHA-256 fingerprint: " in out
        code, out = run(home, "status")
        assert code == 0, out
        values = json.loads(run(home, "credentials", "--json")[1])
        client = boto3.client(
            "lambda",
            endpoint_url=values["AWS_ENDPOINT_URL_LAMBDA"],
            region_name="us-east-1",
            aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
            verify=values["AWS_CA_BUNDLE"],
            config=Config(retries={"max_attempts": 1}),
        )
        try:
            assert client.list_functions()["Functions"] == []
        finally:
            client.close()
        assert len(values["Fingerprint"].split(":")) == 32
    finally:
        run(home, "stop")


def test_the_port_comes_from_strum_platform_port(tmp_path: Path, monkeypatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("STRUM_PLATFORM_PORT", str(free))
    home = tmp_path / "home"
    code, out = run(home, "start", "--no-sandbox")
    try:
        assert code == 0, out
        assert f"platform running at http://127.0.0.1:{free} " in out
    finally:
        run(home, "stop")
    monkeypatch.setenv("STRUM_PLATFORM_PORT", "eighty")
    code, out = run(home, "start")
    assert code != 0
    assert "STRUM_PLATFORM_PORT='eighty' is not a port" in out


def test_the_port_comes_from_the_homes_platform_toml(tmp_path: Path, monkeypatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.delenv("STRUM_PLATFORM_PORT", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    (home / "platform.toml").write_text(f"port = {free}\n")
    code, out = run(home, "start", "--no-sandbox")
    try:
        assert code == 0, out
        assert f"platform running at http://127.0.0.1:{free} " in out
    finally:
        run(home, "stop")
    (home / "platform.toml").write_text('port = "eighty"\n')
    code, out = run(home, "start")
    assert code != 0
    assert "port = 'eighty' in" in out and "platform.toml is not a port" in out
    (home / "platform.toml").write_text("port = \n")
    code, out = run(home, "start")
    assert code != 0
    assert "platform.toml is not valid TOML" in out
