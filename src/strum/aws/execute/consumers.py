"""Carrying out a stage's SNS, S3 and EventBridge consumer steps on AWS, and taking the stage
off its sources at undeploy (planning: ``strum.aws.plan.consumers``; reading:
``strum.aws.read.consumers``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.aws.model import DesiredStage
from strum.aws.plan.consumers import (
    DeleteEventRule,
    PutBucketNotifications,
    PutEventRule,
    RemoveEventTarget,
    Subscribe,
    Unsubscribe,
    merged_notifications,
    target_id,
)
from strum.aws.read.consumers import EVENT_TAG, read_consumers, rule_of, subscription
from strum.deploy.steps import Step


def _subscribe(client: AwsClient, step: Subscribe) -> None:
    client.subscribe_lambda(step.topic, step.desired.alias_arn)


def _unsubscribe(client: AwsClient, step: Unsubscribe) -> None:
    found = subscription(client, step.topic, step.desired.alias_arn)
    if found is not None and found.startswith("arn:"):
        client.unsubscribe(found)


def _put_bucket_notifications(client: AwsClient, step: PutBucketNotifications) -> None:
    client.put_notifications(step.bucket, json.loads(step.configuration))


def _put_event_rule(client: AwsClient, step: PutEventRule) -> None:
    d, c = step.desired, step.consumer
    if c.rule is not None:
        tags = {**d.tags, EVENT_TAG: c.name}
        description = f"strum: {d.function} event {c.name}"
        client.put_pattern_rule(c.rule, str(c.pattern), description, tags)
        client.put_target(c.rule, target_id(d), d.alias_arn)
    else:
        client.put_target(rule_of(str(c.arn)), target_id(d), d.alias_arn)


def _remove_event_target(client: AwsClient, step: RemoveEventTarget) -> None:
    try:
        client.remove_target(rule_of(step.rule_arn), target_id(step.desired))
    except AwsError as exc:
        if exc.code != "ResourceNotFoundException":
            raise


def _delete_event_rule(client: AwsClient, step: DeleteEventRule) -> None:
    client.delete_rule(step.rule)


# Step type -> what carries it out, given the client.
CONSUMER_RUNNERS: dict[type[Step], Callable[[AwsClient, Any], None]] = {
    Subscribe: _subscribe,
    Unsubscribe: _unsubscribe,
    PutBucketNotifications: _put_bucket_notifications,
    PutEventRule: _put_event_rule,
    RemoveEventTarget: _remove_event_target,
    DeleteEventRule: _delete_event_rule,
}


def run_consumer_step(client: AwsClient, step: Step) -> None:
    """Carry out one consumer step."""
    CONSUMER_RUNNERS[type(step)](client, step)


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
