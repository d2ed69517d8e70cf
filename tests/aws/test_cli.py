"""The CLI on an AWS stage (moto): deploy, dry run, status, invoke refusal, rollback, undeploy."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import boto3
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
    # tail reads CloudWatch Logs (moto's Lambda writes none: put two lines there).
    logs = boto3.client("logs", region_name="eu-west-1")
    logs.create_log_stream(logGroupName="/aws/lambda/shop-prod", logStreamName="2026/01/01/[2]x")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/shop-prod",
        logStreamName="2026/01/01/[2]x",
        logEvents=[
            {"timestamp": now - 5000, "message": "START RequestId: r1\n"},
            {"timestamp": now - 4000, "message": "hello from the app\n"},
        ],
    )
    tail = strum("tail", "prod", "--since", "1m", "--project", root)
    stamp = time.strftime("%H:%M:%S", time.localtime((now - 4000) / 1000))
    assert tail.splitlines() == [
        f"{time.strftime('%H:%M:%S', time.localtime((now - 5000) / 1000))} START RequestId: r1",
        f"{stamp} hello from the app",
    ]

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


def test_tail_follows_each_event_once_and_explains_missing_logs(aws, tmp_path):
    from strum.aws.client import AwsClient
    from strum.aws.logs import LogFollower

    root = make_project(tmp_path / "shop")
    missing = CliRunner().invoke(cli, ["tail", "prod", "--project", str(root)])
    assert missing.exit_code == 7
    assert "shop-prod has no logs yet (/aws/lambda/shop-prod does not exist)" in missing.output

    logs = boto3.client("logs", region_name="eu-west-1")
    logs.create_log_group(logGroupName="/aws/lambda/shop-prod")
    logs.create_log_stream(logGroupName="/aws/lambda/shop-prod", logStreamName="s")
    now = time.time()

    def put(offset: float, message: str) -> None:
        logs.put_log_events(
            logGroupName="/aws/lambda/shop-prod",
            logStreamName="s",
            logEvents=[{"timestamp": int((now + offset) * 1000), "message": message}],
        )

    follower = LogFollower(AwsClient("eu-west-1"), "shop-prod", now - 60)
    put(-10, "one")
    assert [e["message"] for e in follower.poll(now)] == ["one"]
    assert follower.poll(now + 1) == []
    # A late event, older than the last one seen, still shows up - once.
    put(-20, "late")
    put(1, "two")
    assert [e["message"] for e in follower.poll(now + 2)] == ["late", "two"]
    assert follower.poll(now + 3) == []


def test_package_reports_what_an_aws_deploy_uploads(monkeypatch, tmp_path):
    # No AWS involved: the split into app zip and layer is local.
    monkeypatch.setenv("STRUM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    root = str(make_project(tmp_path / "shop"))
    out_dir = tmp_path / "out"
    args = ["package", "prod", "--project", root, "--json", "-o", str(out_dir)]
    result = CliRunner().invoke(cli, args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    uploads = {upload["kind"]: upload for upload in report["uploads"]}
    assert set(uploads) == {"code", "layer"}
    code, layer = Path(uploads["code"]["path"]), Path(uploads["layer"]["path"])
    assert (code.parent, layer.parent) == (out_dir, out_dir)
    assert code.name.startswith("shop-code-") and layer.name.startswith("shop-layer-")
    assert uploads["code"]["zipped"] == code.stat().st_size
    assert not uploads["code"]["via_s3"] and not uploads["layer"]["via_s3"]
    # The code is the app's own files; strum's runtime travels in the layer, under python/.
    with zipfile.ZipFile(code) as archive:
        names = archive.namelist()
    assert "app.py" in names and not [n for n in names if n.startswith("strum/")]
    with zipfile.ZipFile(layer) as archive:
        assert "python/strum/runtime/entry.py" in archive.namelist()
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([code.name, layer.name])

    human = strum("package", "prod", "--project", root)
    assert "code:  " in human and "the app's files and manifest" in human
    assert "layer: " in human and "strum's runtime" in human
    assert "total " in human and "zipped" in human


def test_tail_filter_on_aws_is_a_cloudwatch_filter_pattern(aws, tmp_path):
    from strum.aws.logs import filter_pattern

    # A quoted term: spaces, punctuation and quotes inside stay part of the text.
    assert filter_pattern("GET /x 500") == '"GET /x 500"'
    assert filter_pattern('say "hi"') == '"say \\"hi\\""'
    root = make_project(tmp_path / "shop")
    logs = boto3.client("logs", region_name="eu-west-1")
    logs.create_log_group(logGroupName="/aws/lambda/shop-prod")
    logs.create_log_stream(logGroupName="/aws/lambda/shop-prod", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/shop-prod",
        logStreamName="s",
        logEvents=[
            {"timestamp": now - 3000, "message": "START RequestId: r1"},
            {"timestamp": now - 2000, "message": "ERROR the cache is down"},
            {"timestamp": now - 1000, "message": "END RequestId: r1"},
        ],
    )
    out = strum("tail", "prod", "--since", "1m", "--filter", "ERROR", "--project", str(root))
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == ["ERROR the cache is down"]


def test_status_on_aws_lists_consumers_with_their_mapping_state(aws, tmp_path):
    sqs = boto3.client("sqs", region_name="eu-west-1")
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    root = make_project(
        tmp_path / "shop",
        top_extra=f'[tool.strum.events.orders]\nsource = "sqs"\nfunction = "jobs:consume"\n'
        f'arn = "{arn}"\nbatch = "record"\n',
    )
    result = CliRunner().invoke(cli, ["deploy", "prod", "--project", str(root)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["status", "prod", "--json", "--project", str(root)])
    assert result.exit_code == 0, result.output
    consumer = json.loads(result.output)["consumers"]["orders"]
    assert (consumer["source"], consumer["arn"], consumer["batch"]) == ("sqs", arn, "record")
    assert consumer["state"] in ("Enabled", "Enabling", "Creating")


def test_a_dry_run_without_credentials_plans_against_an_empty_account(aws, tmp_path, monkeypatch):
    root = make_project(tmp_path / "shop")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = CliRunner().invoke(
        cli, ["deploy", "prod", "--dry-run", "--project", str(root)], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    assert "dry run: AWS cannot be read (no usable AWS credentials" in result.output
    assert "this is the plan against an EMPTY current state" in result.output
    assert "account 000000000000 stands for yours" in result.output
    assert "would create execution role shop-prod-role" in result.output
    assert "would create function shop-prod" in result.output
    # A real deploy still refuses, with the same clear reason.
    result = CliRunner().invoke(cli, ["deploy", "prod", "--project", str(root)])
    assert result.exit_code == 8
    assert "no usable AWS credentials" in result.output


def test_invoke_and_manage_on_an_undeployed_aws_stage_say_to_deploy(aws, tmp_path):
    root = str(make_project(tmp_path / "shop"))
    # moto's Docker-less backend answers every Invoke, existing function or not; its default
    # backend looks the function up first and answers ResourceNotFoundException, as AWS does.
    aws.configure({"lambda": {"use_docker": True}})
    try:
        check_messages(root)
    finally:
        aws.configure({"lambda": {"use_docker": False}})


def check_messages(root: str) -> None:
    for args in (["invoke", "prod", "--payload", "{}", "--project", root],
                 ["manage", "prod", "--project", root, "--", "migrate"]):  # fmt: skip
        result = CliRunner().invoke(cli, args, env={"NO_COLOR": "1"})
        assert result.exit_code == 3, result.output
        assert "prod is not deployed (shop-prod:prod does not exist in eu-west-1)" in result.output
        assert "`strum deploy prod` first" in result.output
