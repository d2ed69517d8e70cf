"""The CLI on an AWS stage (moto): deploy, dry run, status, invoke refusal, rollback, undeploy."""

from __future__ import annotations

import json

from click.testing import CliRunner

from strum.cli import cli
from tests.aws.conftest import make_project


def strum(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_deploy_status_rollback_undeploy(aws, tmp_path):
    root = str(make_project(tmp_path / "shop"))
    dry = strum("deploy", "prod", "--dry-run", "--project", root)
    assert "would create execution role shop-prod-role" in dry
    assert "would create function shop-prod" in dry

    out = strum("deploy", "prod", "--project", root)
    assert "deployed shop-prod:prod version 1" in out
    url = out.strip().splitlines()[-1]
    assert url.startswith("https://") and "lambda-url" in url

    assert "nothing changed" in strum("deploy", "prod", "--project", root)
    app = tmp_path / "shop" / "app.py"
    app.write_text(app.read_text() + "\n# two\n")
    assert "would upload new code" in strum("deploy", "prod", "--dry-run", "--project", root)
    assert "version 2" in strum("deploy", "prod", "--project", root)

    state = json.loads(strum("status", "prod", "--json", "--project", root))
    assert (state["target"], state["version"], state["versions"]) == ("aws", "2", ["1", "2"])
    assert state["url"] == url
    human = strum("status", "prod", "--project", root)
    assert "prod -> version 2" in human
    assert "AWS eu-west-1" in human

    assert "now serves version 1 (was 2)" in strum("rollback", "prod", "--project", root)
    tail = CliRunner().invoke(cli, ["tail", "prod", "--project", root])
    assert tail.exit_code != 0 and "aws logs tail /aws/lambda/shop-prod" in tail.output

    assert "removed shop-prod" in strum(
        "undeploy", "prod", "--yes", "--purge-logs", "--project", root
    )
    assert json.loads(strum("status", "prod", "--json", "--project", root))["deployed"] is False
    assert "was not deployed" in strum("undeploy", "prod", "--yes", "--project", root)


def test_errors_are_clear_and_carry_exit_codes(aws, tmp_path, monkeypatch):
    root = make_project(tmp_path / "shop")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = CliRunner().invoke(cli, ["deploy", "prod", "--project", str(root)])
    assert result.exit_code == 8
    assert "no usable AWS credentials" in result.output
    assert "aws configure" in result.output

    monkeypatch.setenv("AWS_PROFILE", "nope")
    result = CliRunner().invoke(cli, ["status", "prod", "--project", str(root)])
    assert result.exit_code == 8
    assert "the AWS profile 'nope' (AWS_PROFILE) does not exist" in result.output


def test_a_stage_without_a_region_is_refused(aws, tmp_path, monkeypatch):
    root = make_project(tmp_path / "shop")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('region = "eu-west-1"', ""))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = CliRunner().invoke(cli, ["deploy", "prod", "--project", str(root)])
    assert result.exit_code == 7
    assert "no region is set" in result.output
    assert "[tool.strum.stages.prod]" in result.output
