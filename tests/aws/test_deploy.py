"""Deploying to AWS, end to end against a real moto server: every resource inspected with
boto3 after the deploy, call counts read from the wrapper's own log (no mocks)."""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path

import boto3
import pytest

from strum.aws import AwsTarget
from strum.aws.client import AwsClient
from strum.aws.execute import Patience
from strum.config import load_config
from strum.deploy import DeployError
from strum.deploy.policy import execution_policy
from strum.platform.home import Home
from tests.aws.conftest import REGION, make_project

ACCOUNT = "123456789012"
SCHEDULES = """
[tool.strum.schedules]
nightly = { function = "jobs:cleanup", expression = "cron(0 3 * * ? *)" }
hourly = { function = "jobs:cleanup", expression = "rate(1 hour)", enabled = false }
"""


class Quiet:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str):
        self.lines.append(message)
        return contextlib.nullcontext()

    def info(self, message: str) -> None:
        self.lines.append(message)


def run_deploy(root: Path, tmp_path: Path, **kwargs):
    config = load_config(root, "prod")
    client = AwsClient(config.region, config.profile)
    quiet = Quiet()
    result = AwsTarget(config, Home(tmp_path / "strum-home"), client=client, **kwargs).deploy(
        quiet.step, quiet.info
    )
    return result, client


def boto(service: str):
    return boto3.client(service, region_name=REGION)


def test_first_deploy_creates_every_resource_tagged_and_configured(aws, tmp_path):
    sqs = boto("sqs")
    queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    root = make_project(
        tmp_path / "shop",
        top_extra=f'env = {{ GREETING = "hi" }}\narchitecture = "arm64"\n'
        f"log_retention_days = 14\nephemeral_storage = 1024\n"
        f"{SCHEDULES}\n[tool.strum.async]\nretries = 1\nmax_age = 600\n"
        f'\n[tool.strum.events.orders]\nsource = "sqs"\nfunction = "jobs:consume"\n'
        f'arn = "{queue_arn}"\nbatch = "record"\nbatch_size = 5\n',
    )
    result, client = run_deploy(root, tmp_path)
    assert result.version == "1"
    assert result.url and result.url.startswith("https://")
    tags = {"strum:project": "shop", "strum:stage": "prod"}
    lam, iam = boto("lambda"), boto("iam")

    # The role: Lambda may assume it, and its only policy is the least-privilege one.
    role = iam.get_role(RoleName="shop-prod-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == tags
    assert iam.list_role_policies(RoleName="shop-prod-role")["PolicyNames"] == ["strum-execution"]
    policy = iam.get_role_policy(RoleName="shop-prod-role", PolicyName="strum-execution")
    config = load_config(root, "prod")
    assert policy["PolicyDocument"] == execution_policy(config, account=ACCOUNT, region=REGION)

    # The function and its configuration.
    function = lam.get_function(FunctionName="shop-prod")
    conf = function["Configuration"]
    assert conf["Runtime"] == f"python{config.python}"
    assert conf["Handler"] == "strum.runtime.entry.handler"
    assert (conf["MemorySize"], conf["Timeout"]) == (256, 10)
    assert conf["EphemeralStorage"] == {"Size": 1024}
    assert conf["Architectures"] == ["arm64"]
    assert conf["Environment"]["Variables"] == {"GREETING": "hi"}
    assert conf["Role"] == role["Arn"]
    # strum's runtime rides in the layer (no dependencies here): the code is the app alone.
    (layer,) = boto("lambda").list_layer_versions(LayerName="shop-deps")["LayerVersions"]
    assert [entry["Arn"] for entry in conf["Layers"]] == [layer["LayerVersionArn"]]
    assert function["Tags"] == tags

    # Alias, URL and who may invoke it.
    alias = lam.get_alias(FunctionName="shop-prod", Name="prod")
    assert alias["FunctionVersion"] == "1"
    url = lam.get_function_url_config(FunctionName="shop-prod", Qualifier="prod")
    assert (url["AuthType"], url["FunctionUrl"]) == ("NONE", result.url)
    statements = json.loads(lam.get_policy(FunctionName="shop-prod", Qualifier="prod")["Policy"])
    by_sid = {s["Sid"]: s for s in statements["Statement"]}
    assert by_sid["strum-url"]["Action"] == "lambda:InvokeFunctionUrl"
    assert by_sid["strum-url"]["Principal"] == "*"
    assert by_sid["strum-url-invoke"]["Action"] == "lambda:InvokeFunction"
    assert set(by_sid) == {
        "strum-url",
        "strum-url-invoke",
        "strum-rule-nightly",
        "strum-rule-hourly",
    }

    # Schedules: rules named so the router finds the schedule, targeting the alias.
    events = boto("events")
    rules = {r["Name"]: r for r in events.list_rules(NamePrefix="shop-prod-")["Rules"]}
    assert rules["shop-prod-nightly"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rules["shop-prod-nightly"]["State"] == "ENABLED"
    assert rules["shop-prod-hourly"]["State"] == "DISABLED"
    for name, rule in rules.items():
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        assert [t["Arn"] for t in targets] == [alias["AliasArn"]]
        rule_tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
        assert {t["Key"]: t["Value"] for t in rule_tags} == tags
    assert by_sid["strum-rule-nightly"]["Principal"] in (
        "events.amazonaws.com",
        {"Service": "events.amazonaws.com"},
    )

    # The queue delivers to the alias, reporting partial batch failures.
    (mapping,) = lam.list_event_source_mappings(FunctionName=alias["AliasArn"])[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == queue_arn
    # Listed by the alias's ARN, so it is the alias's (moto reports the version's ARN in
    # FunctionArn where AWS reports the alias's).
    assert mapping["FunctionArn"].startswith(function["Configuration"]["FunctionArn"] + ":")
    assert mapping["BatchSize"] == 5
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    # Logs kept 14 days; async retried once within 10 minutes.
    logs = boto("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/shop-prod")["logGroups"]
    assert group["retentionInDays"] == 14
    assert logs.list_tags_log_group(logGroupName="/aws/lambda/shop-prod")["tags"] == tags
    invoke_config = lam.get_function_event_invoke_config(FunctionName="shop-prod", Qualifier="prod")
    assert (invoke_config["MaximumRetryAttempts"], invoke_config["MaximumEventAgeInSeconds"]) == (
        1,
        600,
    )

    # And the same deploy again changes nothing: not one write call.
    again, client = run_deploy(root, tmp_path)
    assert again.steps == []
    assert client.log.writes == []
    assert again.version == "1" and again.url == result.url


def test_code_change_uploads_only_the_app_zip_and_reuses_the_layer(aws, tmp_path, wheelhouse):
    root = make_project(tmp_path / "shop", dependencies='"tinydep==1.0"')
    _first, _ = run_deploy(root, tmp_path)
    lam = boto("lambda")
    (layer,) = lam.list_layer_versions(LayerName="shop-deps")["LayerVersions"]
    assert layer["Description"].startswith("strum deps sha256:")
    conf = lam.get_function_configuration(FunctionName="shop-prod", Qualifier="prod")
    assert [entry["Arn"] for entry in conf["Layers"]] == [layer["LayerVersionArn"]]

    app = root / "app.py"
    app.write_text(app.read_text().replace("hello from", "hello again from"))
    result, client = run_deploy(root, tmp_path)
    assert client.log.writes == [
        ("lambda", "UpdateFunctionCode"),
        ("lambda", "PublishVersion"),
        ("lambda", "Invoke"),  # the new version's init check, before the alias moves
        ("lambda", "UpdateAlias"),
    ]
    code_zip = result.steps[0].desired.code_zip
    with zipfile.ZipFile(code_zip) as archive:
        names = archive.namelist()
    assert "app.py" in names and "strum_manifest.json" in names
    assert not [name for name in names if name.startswith("strum/")]
    assert code_zip.stat().st_size < 8000  # the app's files: a few KB
    with zipfile.ZipFile(result.steps[0].desired.layer_zip) as archive:
        layer_names = set(archive.namelist())
    assert {"python/strum/runtime/entry.py", "python/tinydep/__init__.py"} <= layer_names
    # Only the app zip travels (base64 in Lambda's JSON, plus a few small requests).
    encoded = (code_zip.stat().st_size + 2) // 3 * 4
    assert encoded < client.log.bytes_sent < encoded + 4000
    assert result.version == "2"
    assert len(lam.list_layer_versions(LayerName="shop-deps")["LayerVersions"]) == 1

    # A new dependency version: one new layer version, the function moves to it.
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace("tinydep==1.0", "tinydep==2.0")
    )
    result, client = run_deploy(root, tmp_path)
    assert ("lambda", "PublishLayerVersion") in client.log.writes
    assert ("lambda", "UpdateFunctionCode") not in client.log.writes
    versions = lam.list_layer_versions(LayerName="shop-deps")["LayerVersions"]
    assert len(versions) == 2
    conf = lam.get_function_configuration(FunctionName="shop-prod", Qualifier="prod")
    assert conf["Layers"][0]["Arn"].endswith(":2")


def test_a_second_stage_reuses_the_published_layer(aws, tmp_path, wheelhouse):
    root = make_project(
        tmp_path / "shop",
        dependencies='"tinydep==1.0"',
        stage_extra=f'\n[tool.strum.stages.staging]\ntarget = "aws"\nregion = "{REGION}"\n',
    )
    run_deploy(root, tmp_path)
    config = load_config(root, "staging")
    client = AwsClient(config.region, None)
    quiet = Quiet()
    AwsTarget(config, Home(tmp_path / "strum-home"), client=client).deploy(quiet.step, quiet.info)
    assert ("lambda", "PublishLayerVersion") not in client.log.writes
    assert len(boto("lambda").list_layer_versions(LayerName="shop-deps")["LayerVersions"]) == 1

    # Undeploying one stage keeps the layer the other still uses.
    AwsTarget(config).undeploy(quiet.step)
    assert len(boto("lambda").list_layer_versions(LayerName="shop-deps")["LayerVersions"]) == 1
    assert boto("lambda").get_function(FunctionName="shop-prod")


def test_rollback_moves_the_alias_back_atomically(aws, tmp_path):
    root = make_project(tmp_path / "shop")
    run_deploy(root, tmp_path)
    app = root / "app.py"
    app.write_text(app.read_text() + "\n# v2\n")
    run_deploy(root, tmp_path)
    config = load_config(root, "prod")
    quiet = Quiet()
    assert AwsTarget(config).rollback(1, quiet.step) == ("2", "1")
    assert boto("lambda").get_alias(FunctionName="shop-prod", Name="prod")["FunctionVersion"] == "1"
    with pytest.raises(DeployError, match="only 0 older"):
        AwsTarget(config).rollback(1, quiet.step)
    # The next deploy serves the current code again.
    result, _ = run_deploy(root, tmp_path)
    alias = boto("lambda").get_alias(FunctionName="shop-prod", Name="prod")
    assert alias["FunctionVersion"] == result.version != "1"


def test_schedule_changes_add_and_remove_rules(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra=SCHEDULES)
    run_deploy(root, tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        .replace(
            'hourly = { function = "jobs:cleanup", expression = "rate(1 hour)", enabled = false }\n',
            "",
        )
        .replace("cron(0 3 * * ? *)", "cron(30 4 * * ? *)")
    )
    result, _client = run_deploy(root, tmp_path)
    # The manifest inside the code lists the schedules, so the code changes too.
    assert {type(step).__name__ for step in result.steps} == {
        "UpdateCode",
        "PublishVersion",
        "CheckVersion",
        "PointAlias",
        "PutSchedule",
        "RemoveSchedule",
        "RevokePermission",
    }
    events = boto("events")
    (rule,) = events.list_rules(NamePrefix="shop-prod-")["Rules"]
    assert (rule["Name"], rule["ScheduleExpression"]) == ("shop-prod-nightly", "cron(30 4 * * ? *)")
    statements = json.loads(
        boto("lambda").get_policy(FunctionName="shop-prod", Qualifier="prod")["Policy"]
    )["Statement"]
    assert "strum-rule-hourly" not in {s["Sid"] for s in statements}


def test_http_api_replaces_the_function_url(aws, tmp_path):
    root = make_project(tmp_path / "shop", stage_extra="http_api = true")
    result, _ = run_deploy(root, tmp_path)
    api_gw = boto("apigatewayv2")
    (api,) = api_gw.get_apis()["Items"]
    assert api["ProtocolType"] == "HTTP"
    assert api["Tags"] == {"strum:project": "shop", "strum:stage": "prod"}
    assert result.url == api["ApiEndpoint"]
    (integration,) = api_gw.get_integrations(ApiId=api["ApiId"])["Items"]
    alias_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-prod:prod"
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == alias_arn
    assert integration["PayloadFormatVersion"] == "2.0"
    routes = api_gw.get_routes(ApiId=api["ApiId"])["Items"]
    assert [(r["RouteKey"], r["Target"]) for r in routes] == [
        ("$default", f"integrations/{integration['IntegrationId']}")
    ]
    assert [s["StageName"] for s in api_gw.get_stages(ApiId=api["ApiId"])["Items"]] == ["$default"]
    lam = boto("lambda")
    statements = json.loads(lam.get_policy(FunctionName="shop-prod", Qualifier="prod")["Policy"])
    (grant,) = statements["Statement"]
    assert grant["Sid"] == "strum-http-api"
    assert api["ApiId"] in json.dumps(grant)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName="shop-prod", Qualifier="prod")
    _, client = run_deploy(root, tmp_path)
    assert client.log.writes == []


def test_undeploy_leaves_nothing_behind(aws, tmp_path, wheelhouse):
    root = make_project(
        tmp_path / "shop",
        dependencies='"tinydep==1.0"',
        top_extra="log_retention_days = 7\n" + SCHEDULES,
        stage_extra="http_api = true",
    )
    run_deploy(root, tmp_path)
    config = load_config(root, "prod")
    quiet = Quiet()
    assert AwsTarget(config).undeploy(quiet.step) is True
    logs = boto("logs")
    # Logs outlive the function unless asked...
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/shop-prod")["logGroups"]
    assert AwsTarget(config).undeploy(quiet.step, purge_logs=True) is True
    assert AwsTarget(config).undeploy(quiet.step, purge_logs=True) is False

    assert boto("lambda").list_functions()["Functions"] == []
    assert boto("lambda").list_layer_versions(LayerName="shop-deps")["LayerVersions"] == []
    assert boto("events").list_rules()["Rules"] == []
    assert boto("apigatewayv2").get_apis()["Items"] == []
    assert [r for r in boto("iam").list_roles()["Roles"] if r["RoleName"].startswith("shop")] == []
    assert logs.describe_log_groups()["logGroups"] == []
    tagged = boto("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "strum:project", "Values": ["shop"]}]
    )["ResourceTagMappingList"]
    assert tagged == []
    assert AwsTarget(config).status()["deployed"] is False


def test_a_role_of_the_users_own_means_no_role_is_created(aws, tmp_path):
    role_arn = boto("iam").create_role(
        RoleName="team-lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    root = make_project(tmp_path / "shop", stage_extra=f'role_arn = "{role_arn}"')
    _result, client = run_deploy(root, tmp_path)
    assert not any(service == "iam" for service, _ in client.log.writes)
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod")
    assert conf["Role"] == role_arn
    AwsTarget(load_config(root, "prod")).undeploy(Quiet().step)
    assert boto("iam").get_role(RoleName="team-lambda")  # never ours to delete


def test_a_function_strum_did_not_create_is_left_alone(aws, tmp_path):
    role = boto("iam").create_role(
        RoleName="other", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    boto("lambda").create_function(
        FunctionName="shop-prod",
        Runtime="python3.12",
        Role=role,
        Handler="x.y",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    root = make_project(tmp_path / "shop", stage_extra=f'role_arn = "{role}"')
    with pytest.raises(DeployError, match="strum did not create it"):
        run_deploy(root, tmp_path)
    with pytest.raises(DeployError, match="lacks the strum"):
        AwsTarget(load_config(root, "prod")).undeploy(Quiet().step)


def test_a_failed_deploy_says_what_serves_and_resumes_where_it_stopped(aws, tmp_path):
    root = make_project(tmp_path / "shop")
    run_deploy(root, tmp_path)
    # A queue that does not exist: Lambda refuses the mapping - the last step of all.
    pyproject = root / "pyproject.toml"
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.strum.stages.prod]",
            f'[tool.strum.events.jobs]\nsource = "sqs"\nfunction = "jobs:consume"\n'
            f'arn = "{missing}"\n\n[tool.strum.stages.prod]',
        )
    )
    with pytest.raises(DeployError) as failure:
        run_deploy(root, tmp_path)
    message = str(failure.value)
    assert "CreateEventSourceMapping" in message
    assert "Version 2 already serves the stage" in message
    assert "run `strum deploy prod` again" in message
    boto("sqs").create_queue(QueueName="missing")
    result, _ = run_deploy(root, tmp_path)
    assert [type(step).__name__ for step in result.steps] == ["CreateMapping"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_role_lambda_cannot_assume_is_retried_within_a_deadline(aws, tmp_path):
    missing = f"arn:aws:iam::{ACCOUNT}:role/not-yet"
    root = make_project(tmp_path / "shop", stage_extra=f'role_arn = "{missing}"')
    clock = FakeClock()
    patience = Patience(role_propagation=30, sleep=clock.sleep, clock=lambda: clock.now)
    with pytest.raises(DeployError) as failure:
        run_deploy(root, tmp_path, patience=patience)
    assert "cannot be assumed" in str(failure.value)
    assert "Nothing serves the stage yet" in str(failure.value)
    assert len(clock.slept) >= 3 and sum(clock.slept) <= 30
    # The role appears (IAM caught up): the same deploy goes through.
    boto("iam").create_role(
        RoleName="not-yet", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )
    result, _ = run_deploy(root, tmp_path)
    assert result.version == "1"


def test_declared_host_variables_reach_the_function_and_nothing_else(aws, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://db/shop")
    monkeypatch.setenv("UNDECLARED_SECRET", "hunter2")
    extra = 'env = { MODE = "prod" }\n[tool.strum.permissions]\nenv = ["DATABASE_URL"]'
    root = make_project(tmp_path / "shop", top_extra=extra)
    run_deploy(root, tmp_path)
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod")
    assert conf["Environment"]["Variables"] == {
        "DATABASE_URL": "postgres://db/shop",
        "MODE": "prod",
    }


def test_the_url_mode_follows_the_version_through_deploys_and_rollbacks(aws, tmp_path):
    # Issue "deploy safety": the URL's InvokeMode belongs to the version served. moto keeps
    # a URL's InvokeMode from its creation (UpdateFunctionUrlConfig ignores it), so the
    # order of the calls is checked, and the URL is made again as AWS would have it.
    root = make_project(tmp_path / "shop")
    run_deploy(root, tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("timeout = 10\n", "timeout = 10\nstream = true\n")
    )
    _, client = run_deploy(root, tmp_path)
    version = boto("lambda").get_function(FunctionName="shop-prod", Qualifier="2")
    assert version["Configuration"]["Description"].endswith("[RESPONSE_STREAM]")
    writes = client.log.writes
    assert writes.index(("lambda", "UpdateAlias")) < writes.index(
        ("lambda", "UpdateFunctionUrlConfig")
    )
    lam = boto("lambda")
    lam.delete_function_url_config(FunctionName="shop-prod", Qualifier="prod")
    lam.create_function_url_config(
        FunctionName="shop-prod", Qualifier="prod", AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )
    config = load_config(root, "prod")
    client = AwsClient(config.region, config.profile)
    quiet = Quiet()
    assert AwsTarget(config, client=client).rollback(1, quiet.step) == ("2", "1")
    assert client.log.writes == [
        ("lambda", "UpdateFunctionUrlConfig"),
        ("lambda", "UpdateAlias"),
    ]
    assert "switching the function URL of shop-prod:prod to BUFFERED" in quiet.lines
