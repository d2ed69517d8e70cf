"""Reading a stage's SNS, S3 and EventBridge consumers on AWS: what the sources have now
(subscriptions, bucket notifications, rules), as one ``CurrentConsumers``."""

from __future__ import annotations

import json
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.aws.model import (
    SID_PREFIXES,
    CurrentConsumers,
    DesiredStage,
    canonical,
    condition_values,
    owned,
)
from strum.aws.plan.consumers import event_rule
from strum.deploy.errors import DeployError

EVENT_TAG = "strum:event"


def _sources(statements: tuple[dict[str, Any], ...], wanted: set[str]) -> list[tuple[str, str]]:
    """(source, ARN) of strum's consumer statements not in ``wanted``."""
    found = []
    for statement in statements:
        sid = str(statement.get("Sid"))
        for source, prefix in SID_PREFIXES.items():
            if sid.startswith(prefix) and sid not in wanted:
                found += [(source, arn) for arn in condition_values(statement)[:1]]
    return found


def _notifications(client: AwsClient, bucket: str, why: str) -> dict[str, Any]:
    try:
        return client.get_notifications(bucket)
    except AwsError as exc:
        if exc.code in ("NoSuchBucket", "AccessDenied", "403"):
            raise DeployError(
                f"cannot read the notifications of S3 bucket {bucket} ({why}): {exc.code}; "
                "check the arn in [tool.strum.events] and that the bucket is in this account"
            ) from None
        raise


def read_consumers(
    client: AwsClient, desired: DesiredStage, statements: tuple[dict[str, Any], ...]
) -> CurrentConsumers:
    """What the sources have for the stage's consumers (and for ones dropped since)."""
    alias = desired.alias_arn
    subscribed = tuple(
        str(c.arn)
        for c in desired.consumers
        if c.source == "sns" and subscription(client, str(c.arn), alias) is not None
    )
    buckets = {c.bucket: f"event {c.name!r}" for c in desired.consumers if c.source == "s3"}
    mine_prefix = f":rule/{event_rule(desired.function, '')}"
    stale = []
    for source, arn in _sources(statements, {c.sid for c in desired.consumers}):
        if source == "s3":
            buckets.setdefault(arn.split(":::", 1)[-1], "a consumer strum set up earlier")
        elif mine_prefix not in arn:  # strum's own rules go with DeleteEventRule
            stale.append((source, arn))
    notifications = tuple(
        (bucket, json.dumps(_notifications(client, bucket, why), sort_keys=True))
        for bucket, why in sorted(buckets.items())
    )
    rules = []
    for rule in client.list_rules(event_rule(desired.function, "")):
        tags = client.rule_tags(rule["Arn"])
        if owned(tags, desired.project, desired.stage) and EVENT_TAG in tags:
            pattern = canonical(json.loads(rule.get("EventPattern") or "{}"))
            targets = tuple(str(t["Arn"]) for t in client.rule_targets(str(rule["Name"])))
            rules.append((str(rule["Name"]), pattern, targets))
    targeted = tuple(
        str(c.arn)
        for c in desired.consumers
        if c.source == "eventbridge"
        and c.rule is None
        and any(t["Arn"] == alias for t in client.rule_targets(rule_of(str(c.arn))))
    )
    return CurrentConsumers(subscribed, notifications, tuple(rules), targeted, tuple(stale))


def rule_of(arn: str) -> str:
    """The rule name in an EventBridge rule ARN."""
    return arn.rsplit("/", 1)[-1]


def subscription(client: AwsClient, topic: str, endpoint: str) -> str | None:
    """The ARN of ``endpoint``'s lambda subscription to ``topic``, or None."""
    try:
        subscriptions = client.subscriptions(topic)
    except AwsError as exc:
        if exc.code == "NotFound":
            return None
        raise
    for subscription in subscriptions:
        if subscription.get("Protocol") == "lambda" and subscription.get("Endpoint") == endpoint:
            return str(subscription["SubscriptionArn"])
    return None
