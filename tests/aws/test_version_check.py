"""On AWS stages the new version is invoked before ``UpdateAlias``: its init (the runtime's
ping) and, with ``check = "/healthz"``, a GET through it; a failure leaves the alias where it
was. moto runs no function code without Docker: its "simple" Lambda backend answers Invoke
with results queued through ``/moto-api/static/lambda-simple/response`` (else the request
payload), which is how these tests make the new version pass or fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from strum.cli import cli
from strum.deploy.startup import StartupFailed
from strum.deploy.verify import PING, CheckFailed, verify_version
from tests.aws.conftest import REGION, make_project

ACCOUNT = "123456789012"  # moto's default account
# What AWS's Python runtime answers a version whose module fails to import: the invoke's
# FunctionError is "Unhandled" and this is its payload (Lambda developer guide, "Python
# Lambda function errors"; runtime init errors carry an empty requestId and stackTrace).
INIT_ERROR = {
    "errorMessage": "Unable to import module 'app': No module named 'requestz'",
    "errorType": "Runtime.ImportModuleError",
    "requestId": "",
    "stackTrace": [],
}


def deploy(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["deploy", "prod", "--project", str(root)], env={"NO_COLOR": "1"}
    )
    return result.exit_code, result.output


def serving() -> str:
    lam = boto3.client("lambda", region_name=REGION)
    return str(lam.get_alias(FunctionName="shop-prod", Name="prod")["FunctionVersion"])


def test_a_version_failing_its_check_on_aws_never_serves(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='check = "/healthz"')
    code, out = deploy(root)
    assert code == 0, out
    assert "start the new version of shop-prod (it must initialise, then answer GET /healthz" in out
    assert serving() == "1"
    (root / "app.py").write_text((root / "app.py").read_text() + "\n# two\n")
    # The ping answers (init succeeded), then the check's GET gets a 503.
    aws.queue_invoke_results(
        ["{}", json.dumps({"statusCode": 503, "body": "database unreachable"})], REGION, ACCOUNT
    )
    code, out = deploy(root)
    assert code == 7, out
    assert "version 2 of shop-prod failed its check (GET /healthz), so the alias prod " in out
    assert "still serves version 1" in out
    assert "HTTP 503: database unreachable" in out
    assert serving() == "1"
    # The next deploy publishes again, and the check (answered as sent: a 200) passes.
    (root / "app.py").write_text((root / "app.py").read_text() + "\n# three\n")
    code, out = deploy(root)
    assert code == 0, out
    assert serving() == "3"


def test_an_answer_that_is_not_http_fails_the_check(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='check = "/healthz"')
    aws.queue_invoke_results(["{}", "not json at all"], REGION, ACCOUNT)
    code, out = deploy(root)
    assert code == 7, out
    assert "the alias prod was not created" in out
    assert "HTTP 502: the response cannot be mapped to HTTP" in out


def test_the_init_check_sends_the_ping_to_the_version_not_the_alias():
    calls: list[bytes] = []

    def probe(payload: bytes) -> tuple[str | None, bytes]:
        calls.append(payload)
        return None, b'{"strum": "pong"}'

    verify_version(probe, function="f", version="3", alias="prod", serving="2", project=None)
    assert calls == [PING]


def test_an_init_error_read_back_from_the_invoke_is_shown_as_on_the_local_target(tmp_path):
    def probe(payload: bytes) -> tuple[str | None, bytes]:
        return "Unhandled", json.dumps(INIT_ERROR).encode()

    with pytest.raises(StartupFailed) as failed:
        verify_version(
            probe, function="shop-prod", version="4", alias="prod", serving="3", project=tmp_path
        )
    message = str(failed.value)
    assert message.splitlines()[:2] == [
        "version 4 of shop-prod failed to start, so it serves nothing and the alias prod still "
        "serves version 3:",
        "  Runtime.ImportModuleError: Unable to import module 'app': No module named 'requestz'",
    ]
    assert "fix: `requestz` is imported but is not in your dependencies" in message


def test_a_check_the_function_raises_on_names_the_error(tmp_path):
    answers = iter(
        [
            (None, b"{}"),
            ("Unhandled", json.dumps({"errorType": "KeyError", "errorMessage": "'DB'"}).encode()),
        ]
    )

    def probe(payload: bytes) -> tuple[str | None, bytes]:
        return next(answers)

    with pytest.raises(CheckFailed, match="the function raised KeyError: 'DB'"):
        verify_version(
            probe, function="f", version="2", alias="prod", serving="1", project=tmp_path,
            check="/healthz",
        )  # fmt: skip
