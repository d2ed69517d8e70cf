"""`strum template`: the stage as CloudFormation, written without AWS credentials, and a
real round trip through moto's CloudFormation (the zips in S3, the stack created, the
function and role inspected with boto3)."""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from strum.aws.model import DesiredStage, canonical
from strum.aws.template import ACCOUNT, PARTITION, REGION, render, stage_template
from strum.cli import cli
from tests.aws.conftest import REGION as MOTO_REGION
from tests.aws.conftest import make_project
from tests.aws.test_consumers import consumers

FULL_QUEUE = "arn:aws:sqs:eu-west-1:123456789012:orders"
FULL = """\
env = { GREETING = "hi", STRIPE_SECRET_KEY = "sk_live_not_in_the_template" }
architecture = "arm64"
ephemeral_storage = 1024
log_retention_days = 14
reserved_concurrency = 5
permissions = { env = ["HOST_TOKEN"] }

[tool.strum.schedules]
nightly = { function = "jobs:cleanup", expression = "cron(0 3 * * ? *)" }
hourly = { function = "jobs:cleanup", expression = "rate(1 hour)", enabled = false }

[tool.strum.events.orders]
source = "sqs"
function = "jobs:consume"
arn = "arn:aws:sqs:eu-west-1:123456789012:orders"
batch = "record"
batch_size = 5
"""
ASYNC = 'async = { retries = 1, max_age = 600, on_failure = "arn:aws:sqs:eu-west-1:123456789012:dlq" }\n'


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials, no profile, no region, no endpoint: any AWS call would fail."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("STRUM_HOME", str(tmp_path / "strum-home"))


def strum(*args: str, exit_code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == exit_code, result.output + repr(result.exception)
    return result.output


def types(template: dict) -> dict[str, str]:
    return {
        ("Version" if name.startswith("Version") else name): resource["Type"]
        for name, resource in template["Resources"].items()
    }


def props(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def arn(service: str, rest: str) -> str:
    """An ARN of this account and region, as the template writes it inside ``Fn::Sub``."""
    return f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"


def test_the_template_of_a_stage_with_schedules_a_consumer_and_async_config(no_aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra=FULL, stage_extra=ASYNC)
    out = strum("template", "prod", "--project", str(root))
    path = root / "dist" / "shop-prod.template.json"
    assert f"wrote {path}" in out
    assert "aws cloudformation deploy --template-file" in out
    assert "--parameter-overrides CodeBucket=BUCKET" in out
    text = path.read_text()
    template = json.loads(text)

    # The zips sit next to the template, named by content; the keys default to their names.
    params = template["Parameters"]
    code_zip = path.parent / params["CodeKey"]["Default"]
    layer_zip = path.parent / params["LayerKey"]["Default"]
    assert hashlib.sha256(code_zip.read_bytes()).hexdigest()[:16] in code_zip.name
    assert layer_zip.name.startswith("shop-layer-") and layer_zip.exists()
    assert f"aws s3 cp {code_zip} s3://BUCKET/{code_zip.name}" in out
    # Secrets and host variables are NoEcho parameters, never values in the file.
    assert "sk_live_not_in_the_template" not in text
    assert params["EnvSTRIPESECRETKEY"]["NoEcho"] is True
    assert params["EnvHOSTTOKEN"]["NoEcho"] is True
    assert set(params) == {
        "CodeBucket",
        "CodeKey",
        "LayerKey",
        "EnvHOSTTOKEN",
        "EnvSTRIPESECRETKEY",
    }

    assert types(template) == {
        "ExecutionRole": "AWS::IAM::Role",
        "LogGroup": "AWS::Logs::LogGroup",
        "DependencyLayer": "AWS::Lambda::LayerVersion",
        "Function": "AWS::Lambda::Function",
        "Version": "AWS::Lambda::Version",
        "Alias": "AWS::Lambda::Alias",
        "FunctionUrl": "AWS::Lambda::Url",
        "StrumUrlPermission": "AWS::Lambda::Permission",
        "StrumUrlInvokePermission": "AWS::Lambda::Permission",
        "StrumRuleHourlyPermission": "AWS::Lambda::Permission",
        "StrumRuleNightlyPermission": "AWS::Lambda::Permission",
        "EventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
        "ScheduleHourly": "AWS::Events::Rule",
        "ScheduleNightly": "AWS::Events::Rule",
        "ConsumerOrders": "AWS::Lambda::EventSourceMapping",
    }
    tags = [{"Key": "strum:project", "Value": "shop"}, {"Key": "strum:stage", "Value": "prod"}]

    role = props(template, "ExecutionRole")
    assert role["RoleName"] == "shop-prod-role"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == "strum-execution"
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    group = arn("logs", "log-group:/aws/lambda/shop-prod")
    assert statements["WriteOwnLogs"]["Resource"] == [sub(group + ":*")]
    assert statements["ConsumeOrders"]["Resource"] == ["arn:aws:sqs:eu-west-1:123456789012:orders"]
    assert statements["AsyncDestinationOnFailure"]["Action"] == ["sqs:SendMessage"]

    function = props(template, "Function")
    assert template["Resources"]["Function"]["DependsOn"] == ["LogGroup"]
    assert function["FunctionName"] == "shop-prod"
    assert function["Handler"] == "strum.runtime.entry.handler"
    assert function["Runtime"].startswith("python3.")
    assert function["Architectures"] == ["arm64"]
    assert (function["MemorySize"], function["Timeout"]) == (256, 10)
    assert function["EphemeralStorage"] == {"Size": 1024}
    assert function["ReservedConcurrentExecutions"] == 5
    assert function["Environment"]["Variables"] == {
        "GREETING": "hi",
        "HOST_TOKEN": {"Ref": "EnvHOSTTOKEN"},
        "STRIPE_SECRET_KEY": {"Ref": "EnvSTRIPESECRETKEY"},
    }
    assert function["Role"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert function["Layers"] == [{"Ref": "DependencyLayer"}]
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert function["Tags"] == tags
    layer = props(template, "DependencyLayer")
    assert layer["LayerName"] == "shop-deps"
    assert layer["Content"]["S3Key"] == {"Ref": "LayerKey"}
    assert layer["CompatibleArchitectures"] == ["arm64"]

    (version,) = [name for name in template["Resources"] if name.startswith("Version")]
    assert props(template, "Alias") == {
        "Name": "prod",
        "FunctionName": {"Ref": "Function"},
        "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
    }
    assert props(template, "FunctionUrl")["AuthType"] == "NONE"
    assert props(template, "FunctionUrl")["Qualifier"] == "prod"
    alias = {"Ref": "Alias"}
    assert props(template, "StrumUrlPermission") == {
        "FunctionName": alias,
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    assert props(template, "StrumUrlInvokePermission") == {
        "FunctionName": alias,
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    }

    # Schedules: the deploy's rule names, the disabled one kept disabled.
    nightly, hourly = props(template, "ScheduleNightly"), props(template, "ScheduleHourly")
    assert (nightly["Name"], nightly["State"]) == ("shop-prod-nightly", "ENABLED")
    assert (hourly["Name"], hourly["State"]) == ("shop-prod-hourly", "DISABLED")
    assert nightly["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert nightly["Targets"] == [{"Id": "strum", "Arn": alias}]
    rule = arn("events", "rule/shop-prod-nightly")
    assert props(template, "StrumRuleNightlyPermission")["SourceArn"] == sub(rule)

    consumer = props(template, "ConsumerOrders")
    assert consumer["FunctionName"] == alias
    assert consumer["BatchSize"] == 5
    assert consumer["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props(template, "LogGroup")["RetentionInDays"] == 14
    invoke = props(template, "EventInvokeConfig")
    assert (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]) == (1, 600)
    assert invoke["DestinationConfig"] == {
        "OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:123456789012:dlq"}
    }
    assert template["Outputs"]["Url"]["Value"] == {"Fn::GetAtt": ["FunctionUrl", "FunctionUrl"]}
    assert template["Outputs"]["AliasArn"]["Value"] == alias

    # Deterministic, and never replaced without --force.
    failed = strum("template", "prod", "--project", str(root), exit_code=7)
    assert "exists; pass --force" in failed
    strum("template", "prod", "--project", str(root), "--force")
    assert path.read_text() == text


def test_http_api_and_own_role_variants(no_aws, tmp_path):
    role_arn = "arn:aws:iam::123456789012:role/mine"
    root = make_project(
        tmp_path / "shop", stage_extra=f'http_api = true\nrole_arn = "{role_arn}"\n'
    )
    target = tmp_path / "out" / "stack.json"
    strum("template", "prod", "--project", str(root), "-o", str(target))
    template = json.loads(target.read_text())
    kinds = types(template)
    assert "ExecutionRole" not in kinds and "FunctionUrl" not in kinds
    assert props(template, "Function")["Role"] == role_arn
    assert {name: kinds[name] for name in kinds if name.startswith("HttpApi")} == {
        "HttpApi": "AWS::ApiGatewayV2::Api",
        "HttpApiIntegration": "AWS::ApiGatewayV2::Integration",
        "HttpApiRoute": "AWS::ApiGatewayV2::Route",
        "HttpApiStage": "AWS::ApiGatewayV2::Stage",
    }
    assert props(template, "HttpApiIntegration") == {
        "ApiId": {"Ref": "HttpApi"},
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": {"Ref": "Alias"},
        "PayloadFormatVersion": "2.0",
    }
    route = props(template, "HttpApiRoute")
    assert route["RouteKey"] == "$default"
    assert route["Target"] == sub("integrations/${HttpApiIntegration}")
    assert props(template, "HttpApiStage")["StageName"] == "$default"
    assert props(template, "HttpApiStage")["AutoDeploy"] is True
    api = arn("execute-api", "${HttpApi}/*")
    assert props(template, "StrumHttpApiPermission") == {
        "FunctionName": {"Ref": "Alias"},
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": sub(api),
    }
    assert template["Outputs"]["Url"]["Value"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
    assert sorted(p.name.split("-")[1] for p in target.parent.glob("*.zip")) == ["code", "layer"]


def test_local_stages_are_refused(no_aws, tmp_path):
    root = make_project(tmp_path / "shop")
    out = strum("template", "--project", str(root), exit_code=7)
    assert "stage 'dev' targets 'local'" in out
    assert not (root / "dist").exists()


def test_literal_dollar_braces_survive_fn_sub():
    # An IAM policy variable next to a pseudo parameter: Fn::Sub must not resolve it.
    resource = f"arn:{PARTITION}:s3:::uploads-{ACCOUNT}/${{aws:username}}/*"
    desired = DesiredStage(
        project="shop",
        stage="prod",
        function="shop-prod",
        region=REGION,
        account=ACCOUNT,
        partition=PARTITION,
        code_zip=Path("code.zip"),
        code_sha256="",
        runtime="python3.12",
        architecture="x86_64",
        role_arn="",
        role_name="shop-prod-role",
        trust=canonical({"Version": "2012-10-17", "Statement": []}),
        policy=canonical({"Version": "2012-10-17", "Statement": [{"Resource": resource}]}),
    )
    text = render(stage_template(desired, code_key="code.zip", layer_key=None))
    assert "\\u0000" not in text
    policy = json.loads(text)["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]
    assert policy["PolicyDocument"]["Statement"][0]["Resource"] == sub(
        "arn:${AWS::Partition}:s3:::uploads-${AWS::AccountId}/${!aws:username}/*"
    )


def test_round_trip_through_moto_cloudformation(aws, tmp_path):
    sqs = boto3.client("sqs", region_name=MOTO_REGION)
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = boto3.client("sns", region_name=MOTO_REGION).create_topic(Name="news")["TopicArn"]
    pushed = f"""
[tool.strum.events.news]
source = "sns"
function = "jobs:consume"
arn = "{topic}"

[tool.strum.events.refunds]
source = "eventbridge"
function = "jobs:consume"
pattern = {{ source = ["shop.refunds"] }}
"""
    root = make_project(
        tmp_path / "shop",
        top_extra=FULL.replace(FULL_QUEUE, queue_arn) + pushed,
        stage_extra=ASYNC,
    )
    path = tmp_path / "stack" / "shop-prod.json"
    strum("template", "prod", "--project", str(root), "-o", str(path))
    template = json.loads(path.read_text())
    params = template["Parameters"]
    s3 = boto3.client("s3", region_name=MOTO_REGION)
    s3.create_bucket(
        Bucket="pipeline", CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    for key in (params["CodeKey"]["Default"], params["LayerKey"]["Default"]):
        s3.upload_file(str(path.parent / key), "pipeline", key)

    # moto 5.2 has no CloudFormation model for AWS::Lambda::Alias, AWS::Lambda::Url,
    # AWS::Lambda::EventInvokeConfig, AWS::SNS::Subscription or AWS::ApiGatewayV2::*: it
    # skips them, and then fails on whatever refers to them (a 500 on the outputs). So the
    # stack under test is the supported subset - role, log group, layer, function, version,
    # rules (schedules and a consumer's pattern), permissions and the SQS mapping - with the
    # alias's ARN replaced by the function's. The template's structure covers the rest.
    unsupported = {
        "AWS::Lambda::Alias",
        "AWS::Lambda::Url",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
    }
    for name, resource in list(template["Resources"].items()):
        if resource["Type"] in unsupported or resource["Type"].startswith("AWS::ApiGatewayV2"):
            del template["Resources"][name]
    body = json.dumps(template).replace('{"Ref": "Alias"}', '{"Fn::GetAtt": ["Function", "Arn"]}')
    subset = json.loads(body)
    subset["Outputs"] = {"AliasArn": subset["Outputs"]["AliasArn"]}

    cfn = boto3.client("cloudformation", region_name=MOTO_REGION)
    cfn.create_stack(
        StackName="shop-prod",
        TemplateBody=json.dumps(subset),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "CodeBucket", "ParameterValue": "pipeline"},
            {"ParameterKey": "EnvSTRIPESECRETKEY", "ParameterValue": "sk_test"},
            {"ParameterKey": "EnvHOSTTOKEN", "ParameterValue": "host-token"},
        ],
    )
    stack = cfn.describe_stacks(StackName="shop-prod")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    created = {
        r["LogicalResourceId"]: r["ResourceStatus"]
        for r in cfn.list_stack_resources(StackName="shop-prod")["StackResourceSummaries"]
    }
    assert set(created) == set(subset["Resources"])
    assert set(created.values()) == {"CREATE_COMPLETE"}

    # The role: Lambda's trust and the least-privilege policy, pseudo parameters resolved.
    iam = boto3.client("iam", region_name=MOTO_REGION)
    role = iam.get_role(RoleName="shop-prod-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    document = iam.get_role_policy(RoleName="shop-prod-role", PolicyName="strum-execution")[
        "PolicyDocument"
    ]
    # moto keeps a CloudFormation inline policy as the repr of the parsed dict.
    if isinstance(document, str):
        document = ast.literal_eval(document)
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["WriteOwnLogs"]["Resource"] == [
        f"arn:aws:logs:{MOTO_REGION}:123456789012:log-group:/aws/lambda/shop-prod:*"
    ]
    assert statements["ConsumeOrders"]["Resource"] == [queue_arn]

    # The function: the code the template was made for, from S3, configured as a deploy does.
    lam = boto3.client("lambda", region_name=MOTO_REGION)
    conf = lam.get_function(FunctionName="shop-prod")["Configuration"]
    assert conf["Role"] == role["Arn"]
    assert conf["Handler"] == "strum.runtime.entry.handler"
    assert (conf["MemorySize"], conf["Timeout"]) == (256, 10)
    assert conf["Environment"]["Variables"] == {
        "GREETING": "hi",
        "HOST_TOKEN": "host-token",
        "STRIPE_SECRET_KEY": "sk_test",
    }
    (version,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Version"]
    assert conf["CodeSha256"] == version["Properties"]["CodeSha256"]
    assert [
        v["Version"] for v in lam.list_versions_by_function(FunctionName="shop-prod")["Versions"]
    ] == ["$LATEST", "1"]
    # moto names a CloudFormation layer after the stack, not its LayerName (nor does it
    # attach it to the function's Layers), so only its content marker is checked.
    (layer,) = lam.list_layers()["Layers"]
    marker = props(template, "DependencyLayer")["Description"]
    assert layer["LatestMatchingVersion"]["Description"] == marker
    # Schedules, their permissions and the SQS mapping.
    events = boto3.client("events", region_name=MOTO_REGION)
    rules = {r["Name"]: r for r in events.list_rules(NamePrefix="shop-prod-")["Rules"]}
    assert {name: rule["State"] for name, rule in rules.items()} == {
        "shop-prod-nightly": "ENABLED",
        "shop-prod-hourly": "DISABLED",
        "shop-prod-on-refunds": "ENABLED",
    }
    assert json.loads(rules["shop-prod-on-refunds"]["EventPattern"]) == {"source": ["shop.refunds"]}
    (target,) = events.list_targets_by_rule(Rule="shop-prod-on-refunds")["Targets"]
    assert target["Arn"] == conf["FunctionArn"]
    (target,) = events.list_targets_by_rule(Rule="shop-prod-nightly")["Targets"]
    assert target["Arn"] == conf["FunctionArn"]
    policy = json.loads(lam.get_policy(FunctionName="shop-prod")["Policy"])["Statement"]
    # The URL's two statements, the two schedules', the topic's and the rule's.
    assert sorted(s["Action"] for s in policy) == [
        *["lambda:InvokeFunction"] * 5,
        "lambda:InvokeFunctionUrl",
    ]
    (mapping,) = lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
    assert mapping["BatchSize"] == 5
    assert mapping["FunctionArn"].startswith(conf["FunctionArn"])
    group = boto3.client("logs", region_name=MOTO_REGION).describe_log_groups(
        logGroupNamePrefix="/aws/lambda/shop-prod"
    )["logGroups"]
    assert [g["retentionInDays"] for g in group] == [14]


TOPIC = "arn:aws:sns:eu-west-1:123456789012:news"
USER_RULE = "arn:aws:events:eu-west-1:123456789012:rule/billing"
PUSHED = f"""
[tool.strum.events.billing]
source = "eventbridge"
function = "jobs:consume"
arn = "{USER_RULE}"
""" + consumers(TOPIC, "uploads")


def test_pushed_consumers_in_the_template_and_what_is_left_outside_it(no_aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra=PUSHED)
    out = strum("template", "prod", "--project", str(root))
    template = json.loads((root / "dist" / "shop-prod.template.json").read_text())
    kinds = types(template)
    alias = {"Ref": "Alias"}
    assert {name: kind for name, kind in kinds.items() if "Consumer" in name} == {
        "ConsumerNewsSubscription": "AWS::SNS::Subscription",
        "ConsumerOrdersRule": "AWS::Events::Rule",
    }
    assert props(template, "ConsumerNewsSubscription") == {
        "TopicArn": TOPIC,
        "Protocol": "lambda",
        "Endpoint": alias,
    }
    rule = props(template, "ConsumerOrdersRule")
    assert rule["Name"] == "shop-prod-on-orders"
    assert rule["EventPattern"] == {"source": ["shop.orders"]}
    assert (rule["State"], rule["Targets"]) == ("ENABLED", [{"Id": "strum", "Arn": alias}])

    # Every consumer's permission, limited to its source: the deploy's statements.
    invoke = {"FunctionName": alias, "Action": "lambda:InvokeFunction"}
    assert props(template, "StrumSnsNewsPermission") == {
        **invoke,
        "Principal": "sns.amazonaws.com",
        "SourceArn": TOPIC,
    }
    assert props(template, "StrumS3UploadsPermission") == {
        **invoke,
        "Principal": "s3.amazonaws.com",
        "SourceArn": "arn:aws:s3:::uploads",
        "SourceAccount": {"Fn::Sub": "${AWS::AccountId}"},
    }
    assert props(template, "StrumEventOrdersPermission") == {
        **invoke,
        "Principal": "events.amazonaws.com",
        "SourceArn": sub(arn("events", "rule/shop-prod-on-orders")),
    }
    assert props(template, "StrumEventBillingPermission")["SourceArn"] == USER_RULE

    # The user's bucket and rule: not resources (a stack cannot change what it does not
    # own) but in the Metadata, with the S3 entry to merge, and printed.
    manual = {item["event"]: item for item in template["Metadata"]["strum:outside-the-stack"]}
    assert set(manual) == {"uploads", "billing"}
    assert manual["uploads"]["bucket"] == "uploads"
    assert manual["uploads"]["LambdaFunctionConfiguration"] == {
        "Id": "strum-shop-prod-uploads",
        "LambdaFunctionArn": "(the stack's AliasArn output)",
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {
            "Key": {
                "FilterRules": [
                    {"Name": "prefix", "Value": "incoming/"},
                    {"Name": "suffix", "Value": ".csv"},
                ]
            }
        },
    }
    assert "cannot add a notification to bucket uploads" in manual["uploads"]["todo"]
    assert "aws events put-targets --rule billing" in manual["billing"]["todo"]
    flat = " ".join(out.split())
    assert "cannot add a notification to bucket uploads" in flat
    assert "put-targets --rule billing" in flat
    assert not [name for name, kind in kinds.items() if kind == "AWS::S3::Bucket"]


def test_a_custom_domain_in_the_template(no_aws, tmp_path):
    domain = "api.shop.example.com"
    root = make_project(tmp_path / "shop", stage_extra=f'http_api = true\ndomain = "{domain}"\n')
    out = strum("template", "prod", "--project", str(root))
    assert "HostedZoneId=ZONE_ID" in out
    assert "not part of the template" not in out
    template = json.loads((root / "dist" / "shop-prod.template.json").read_text())
    assert template["Parameters"]["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"
    kinds = types(template)
    assert {name: kinds[name] for name in ("Certificate", "DomainName", "DomainApiMapping")} == {
        "Certificate": "AWS::CertificateManager::Certificate",
        "DomainName": "AWS::ApiGatewayV2::DomainName",
        "DomainApiMapping": "AWS::ApiGatewayV2::ApiMapping",
    }
    zone = {"Ref": "HostedZoneId"}
    certificate = props(template, "Certificate")
    assert certificate["DomainName"] == domain
    assert certificate["ValidationMethod"] == "DNS"
    # With the zone, CloudFormation writes the validation record and waits for ISSUED.
    assert certificate["DomainValidationOptions"] == [{"DomainName": domain, "HostedZoneId": zone}]
    assert props(template, "DomainName")["DomainNameConfigurations"] == [
        {
            "CertificateArn": {"Ref": "Certificate"},
            "EndpointType": "REGIONAL",
            "SecurityPolicy": "TLS_1_2",
        }
    ]
    assert props(template, "DomainName")["Tags"] == {"strum:project": "shop", "strum:stage": "prod"}
    assert props(template, "DomainApiMapping") == {
        "ApiId": {"Ref": "HttpApi"},
        "DomainName": {"Ref": "DomainName"},
        "Stage": {"Ref": "HttpApiStage"},
    }
    assert props(template, "DomainRecord") == {
        "HostedZoneId": zone,
        "Name": domain + ".",
        "Type": "A",
        "AliasTarget": {
            "DNSName": {"Fn::GetAtt": ["DomainName", "RegionalDomainName"]},
            "HostedZoneId": {"Fn::GetAtt": ["DomainName", "RegionalHostedZoneId"]},
            "EvaluateTargetHealth": False,
        },
    }
    assert template["Outputs"]["DomainUrl"]["Value"] == f"https://{domain}"
    assert "Metadata" not in template


def test_no_domain_no_zone_parameter(no_aws, tmp_path):
    root = make_project(tmp_path / "shop", stage_extra="http_api = true\n")
    out = strum("template", "prod", "--project", str(root))
    template = json.loads((root / "dist" / "shop-prod.template.json").read_text())
    assert "HostedZoneId" not in template["Parameters"] and "HostedZoneId" not in out
    assert not {"Certificate", "DomainName", "DomainRecord"} & set(template["Resources"])


def test_a_volume_is_in_the_template_with_its_vpc(no_aws, tmp_path):
    access_point = (
        "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0"
    )
    volume = f'[tool.strum.volumes]\ndata = {{ path = "/mnt/data", efs = "{access_point}" }}'
    vpc = 'vpc = { subnets = ["subnet-0123456789abcdef0"], security_groups = ["sg-0123456789abcdef0"] }'
    root = make_project(tmp_path / "shop", stage_extra=vpc, top_extra=volume)
    target = tmp_path / "out" / "stack.json"
    strum("template", "prod", "--project", str(root), "-o", str(target))
    function = props(json.loads(target.read_text()), "Function")
    assert function["FileSystemConfigs"] == [{"Arn": access_point, "LocalMountPath": "/mnt/data"}]
    assert function["VpcConfig"] == {
        "SubnetIds": ["subnet-0123456789abcdef0"],
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
    }


def test_a_durable_stage_carries_its_durable_config(no_aws, tmp_path):
    root = make_project(
        tmp_path / "shop",
        top_extra='[tool.strum.durable]\nexecution_timeout = "1h"\nretention_days = 7',
    )
    target = tmp_path / "out" / "stack.json"
    strum("template", "prod", "--project", str(root), "-o", str(target))
    template = json.loads(target.read_text())
    function = props(template, "Function")
    assert function["DurableConfig"] == {"ExecutionTimeout": 3600, "RetentionPeriodInDays": 7}
    role = props(template, "ExecutionRole")
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert any(s["Sid"] == "CheckpointOwnDurableExecutions" for s in statements)


def test_snap_start_is_in_the_template(no_aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='python = "3.12"\nsnap_start = true\n')
    target = tmp_path / "out" / "stack.json"
    strum("template", "prod", "--project", str(root), "-o", str(target))
    function = props(json.loads(target.read_text()), "Function")
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
