"""SNS, S3 and EventBridge consumers against AWS: reading them, carrying out their steps,
and taking them off their sources at undeploy (planning: ``strum.aws.consumers``)."""

from __future__ import annotations

import json
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.consumers import (
    SID_PREFIXES,
    Consumer,
    CurrentConsumers,
    DeleteEventRule,
    PutBucketNotifications,
    PutEventRule,
    RemoveEventTarget,
    Subscribe,
    Unsubscribe,
    event_rule,
    merged_notifications,
    target_id,
)
from strum.aws.errors import AwsDeployError, AwsError
from strum.aws.state import owned
from strum.aws.steps import _condition_values
from strum.deploy.plan import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.plan import DesiredStage

EVENT_TAG = "strum:event"


def desired_consumers(config: Any) -> tuple[Consumer, ...]:
    """The config's SNS, S3 and EventBridge consumers (checked by the config loader)."""
    from strum.aws.plan import canonical

    consumers = []
    for name, event in sorted(config.events.items()):
        if event.source not in ("sns", "s3", "eventbridge"):
            continue
        own_rule = event.source == "eventbridge" and event.arn is None
        rule = event_rule(config.function_name, name) if own_rule else None
        if rule is not None and len(rule) > 64:
            raise AwsDeployError(
                f"the EventBridge rule name {rule} is longer than 64 characters; use a shorter "
                f"name for event {name!r} in [tool.strum.events]"
            )
        consumers.append(
            Consumer(
                name=name,
                source=event.source,
                arn=event.arn,
                s3_events=tuple(event.s3_events),
                prefix=event.prefix,
                suffix=event.suffix,
                pattern=canonical(dict(event.pattern)) if own_rule and event.pattern else None,
                rule=rule,
            )
        )
    return tuple(consumers)


def _sources(statements: tuple[dict[str, Any], ...], wanted: set[str]) -> list[tuple[str, str]]:
    """(source, ARN) of strum's consumer statements not in ``wanted``."""
    found = []
    for statement in statements:
        sid = str(statement.get("Sid"))
        for source, prefix in SID_PREFIXES.items():
            if sid.startswith(prefix) and sid not in wanted:
                found += [(source, arn) for arn in _condition_values(statement)[:1]]
    return found


def _notifications(client: AwsClient, bucket: str, why: str) -> dict[str, Any]:
    try:
        return client.get_notifications(bucket)
    except AwsError as exc:
        if exc.code in ("NoSuchBucket", "AccessDenied", "403"):
            raise AwsDeployError(
                f"cannot read the notifications of S3 bucket {bucket} ({why}): {exc.code}; "
                "check the arn in [tool.strum.events] and that the bucket is in this account"
            ) from None
        raise


def read_consumers(
    client: AwsClient, desired: DesiredStage, statements: tuple[dict[str, Any], ...]
) -> CurrentConsumers:
    """What the sources have for the stage's consumers (and for ones dropped since)."""
    from strum.aws.plan import canonical

    alias = desired.alias_arn
    subscribed = tuple(
        str(c.arn)
        for c in desired.consumers
        if c.source == "sns" and _subscription(client, str(c.arn), alias) is not None
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
        and any(t["Arn"] == alias for t in client.rule_targets(_rule_name(str(c.arn))))
    )
    return CurrentConsumers(subscribed, notifications, tuple(rules), targeted, tuple(stale))


def _rule_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _subscription(client: AwsClient, topic: str, endpoint: str) -> str | None:
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


def run_consumer_step(client: AwsClient, step: Step) -> None:
    """Carry out one consumer step for ``strum.aws.execute.Executor``."""
    d: DesiredStage = step.desired  # type: ignore[attr-defined]
    if isinstance(step, Subscribe):
        client.subscribe_lambda(step.topic, d.alias_arn)
    elif isinstance(step, Unsubscribe):
        found = _subscription(client, step.topic, d.alias_arn)
        if found is not None and found.startswith("arn:"):
            client.unsubscribe(found)
    elif isinstance(step, PutBucketNotifications):
        client.put_notifications(step.bucket, json.loads(step.configuration))
    elif isinstance(step, PutEventRule):
        c = step.consumer
        if c.rule is not None:
            tags = {**d.tags, EVENT_TAG: c.name}
            description = f"strum: {d.function} event {c.name}"
            client.put_pattern_rule(c.rule, str(c.pattern), description, tags)
            client.put_target(c.rule, target_id(d), d.alias_arn)
        else:
            client.put_target(_rule_name(str(c.arn)), target_id(d), d.alias_arn)
    elif isinstance(step, RemoveEventTarget):
        try:
            client.remove_target(_rule_name(step.rule_arn), target_id(d))
        except AwsError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
    elif isinstance(step, DeleteEventRule):
        client.delete_rule(step.rule)


def detach_consumers(client: AwsClient, desired: DesiredStage) -> list[str]:
    """Take the stage off every source its policy says it consumes (undeploy, before the
    function goes); ``desired`` needs only names, ARNs and no consumers. What was done."""
    statements = tuple(client.get_policy(desired.function, desired.alias))
    current = read_consumers(client, desired, statements)
    done = []
    for source, arn in current.stale:
        step: Step = (
            Unsubscribe(desired, arn) if source == "sns" else RemoveEventTarget(desired, arn)
        )
        run_consumer_step(client, step)
        done.append(step.describe())
    for bucket, text in current.notifications:
        configuration = json.loads(text)
        merged = merged_notifications(desired, bucket, configuration)
        if merged != configuration:
            run_consumer_step(
                client, PutBucketNotifications(desired, bucket, json.dumps(merged, sort_keys=True))
            )
            done.append(f"removed strum's notifications from bucket {bucket}")
    return done
