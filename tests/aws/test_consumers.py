"""SNS, S3 and EventBridge consumers on AWS, against a real moto server: subscriptions,
bucket notifications (others' kept), rules and permissions, inspected with boto3."""

from __future__ import annotations

import json

import boto3

from strum.aws import AwsTarget
from strum.config import load_config
from tests.aws.conftest import REGION, make_project
from tests.aws.test_deploy import ACCOUNT, Quiet, run_deploy

ALIAS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-prod:prod"


def boto(service: str):
    return boto3.client(service, region_name=REGION)


def consumers(topic: str, bucket: str) -> str:
    return f"""
[tool.strum.events.news]
source = "sns"
function = "jobs:consume"
arn = "{topic}"

[tool.strum.events.uploads]
source = "s3"
function = "jobs:consume"
arn = "arn:aws:s3:::{bucket}"
s3_events = ["s3:ObjectCreated:*"]
prefix = "incoming/"
suffix = ".csv"

[tool.strum.events.orders]
source = "eventbridge"
function = "jobs:consume"
pattern = {{ source = ["shop.orders"] }}
"""


def policy() -> dict[str, dict]:
    found = boto("lambda").get_policy(FunctionName="shop-prod", Qualifier="prod")["Policy"]
    return {s["Sid"]: s for s in json.loads(found)["Statement"]}


def test_pushed_consumers_are_wired_kept_in_step_and_removed(aws, tmp_path):
    topic = boto("sns").create_topic(Name="news")["TopicArn"]
    s3 = boto("s3")
    s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
    # Someone else's notification on the same bucket: it must survive every deploy.
    theirs = {
        "Id": "audit",
        "QueueArn": boto("sqs").get_queue_attributes(
            QueueUrl=boto("sqs").create_queue(QueueName="audit")["QueueUrl"],
            AttributeNames=["QueueArn"],
        )["Attributes"]["QueueArn"],
        "Events": ["s3:ObjectRemoved:*"],
    }
    s3.put_bucket_notification_configuration(
        Bucket="uploads", NotificationConfiguration={"QueueConfigurations": [theirs]}
    )
    root = make_project(tmp_path / "shop", top_extra=consumers(topic, "uploads"))
    run_deploy(root, tmp_path)

    # SNS: the alias subscribed; SNS may invoke it for this topic only.
    (subscription,) = boto("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("lambda", ALIAS)
    statements = policy()
    assert topic in json.dumps(statements["strum-sns-news"])
    assert "sns.amazonaws.com" in json.dumps(statements["strum-sns-news"])

    # S3: strum's entry beside the other one, with the filters; S3 may invoke for the bucket.
    notifications = s3.get_bucket_notification_configuration(Bucket="uploads")
    assert [q["Id"] for q in notifications["QueueConfigurations"]] == ["audit"]
    (entry,) = notifications["LambdaFunctionConfigurations"]
    assert entry["LambdaFunctionArn"] == ALIAS
    assert entry["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in entry["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "incoming/", "suffix": ".csv"}
    assert "arn:aws:s3:::uploads" in json.dumps(statements["strum-s3-uploads"])
    assert ACCOUNT in json.dumps(statements["strum-s3-uploads"])

    # EventBridge: a rule with the pattern, targeting the alias; not taken for a schedule.
    events = boto("events")
    rule = events.describe_rule(Name="shop-prod-on-orders")
    assert json.loads(rule["EventPattern"]) == {"source": ["shop.orders"]}
    targets = events.list_targets_by_rule(Rule="shop-prod-on-orders")["Targets"]
    assert [t["Arn"] for t in targets] == [ALIAS]
    assert rule["Arn"] in json.dumps(statements["strum-event-orders"])

    # Again: nothing written.
    again, client = run_deploy(root, tmp_path)
    assert again.steps == []
    assert client.log.writes == []

    # Dropping the consumers takes them off their sources, and only strum's part.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(consumers(topic, "uploads"), ""))
    result, _ = run_deploy(root, tmp_path)
    kinds = {type(step).__name__ for step in result.steps}
    assert {"Unsubscribe", "PutBucketNotifications", "DeleteEventRule", "RevokePermission"} <= kinds
    assert boto("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    notifications = s3.get_bucket_notification_configuration(Bucket="uploads")
    assert not notifications.get("LambdaFunctionConfigurations")
    assert [q["Id"] for q in notifications["QueueConfigurations"]] == ["audit"]
    assert events.list_rules(NamePrefix="shop-prod-on-")["Rules"] == []
    assert not [sid for sid in policy() if sid.startswith(("strum-sns", "strum-s3", "strum-ev"))]


def test_undeploy_takes_the_stage_off_its_sources_and_a_users_rule_keeps_its_other_targets(
    aws, tmp_path
):
    topic = boto("sns").create_topic(Name="news")["TopicArn"]
    s3 = boto("s3")
    s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
    events = boto("events")
    rule_arn = events.put_rule(Name="team-rule", EventPattern=json.dumps({"source": ["x"]}))[
        "RuleArn"
    ]
    other = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"
    events.put_targets(Rule="team-rule", Targets=[{"Id": "theirs", "Arn": other}])
    extra = consumers(topic, "uploads").replace(
        'pattern = { source = ["shop.orders"] }', f'arn = "{rule_arn}"'
    )
    root = make_project(tmp_path / "shop", top_extra=extra)
    run_deploy(root, tmp_path)
    targets = events.list_targets_by_rule(Rule="team-rule")["Targets"]
    assert sorted(t["Arn"] for t in targets) == sorted([other, ALIAS])
    assert events.list_rules(NamePrefix="shop-prod-on-")["Rules"] == []
    _, client = run_deploy(root, tmp_path)
    assert client.log.writes == []

    assert AwsTarget(load_config(root, "prod")).undeploy(Quiet().step) is True
    assert boto("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert not s3.get_bucket_notification_configuration(Bucket="uploads").get(
        "LambdaFunctionConfigurations"
    )
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule="team-rule")["Targets"]] == [other]
