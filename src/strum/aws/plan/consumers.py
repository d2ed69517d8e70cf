"""SNS, S3 and EventBridge consumers of a stage on AWS: pure planning.

Lambda polls queues and streams itself (event source mappings, in ``strum.aws.plan.stage``); these
three push instead, so each needs a subscription on the source and a statement in the
alias's resource policy letting the source's service invoke it:

- SNS: a ``lambda`` subscription of the alias to the topic;
- S3: an entry in the bucket's notification configuration (the user's bucket: entries that
  are not strum's stay as they are);
- EventBridge: a rule ``<function>-on-<name>`` with the pattern (or strum's target on the
  user's own rule, when ``arn`` names one).

What strum subscribed earlier is found again through the policy statements (``strum-sns-*``,
``strum-s3-*``, ``strum-event-*``), whose ``SourceArn`` says where; so a consumer dropped
from the config is unsubscribed, and undeploy can clean up the sources too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from strum.aws.model import Consumer, CurrentConsumers
from strum.deploy.steps import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import DesiredStage


def notification_id(function: str, name: str) -> str:
    """The Id of strum's entry in a bucket's notification configuration."""
    return f"strum-{function}-{name}"


def bucket_entry(desired: DesiredStage, consumer: Consumer) -> dict[str, Any]:
    """The ``LambdaFunctionConfigurations`` entry for an S3 consumer."""
    entry: dict[str, Any] = {
        "Id": notification_id(desired.function, consumer.name),
        "LambdaFunctionArn": desired.alias_arn,
        "Events": sorted(consumer.s3_events or ("s3:ObjectCreated:*",)),
    }
    rules = [
        {"Name": name, "Value": value}
        for name, value in (("prefix", consumer.prefix), ("suffix", consumer.suffix))
        if value
    ]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


def _comparable(entry: dict[str, Any]) -> str:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    # S3 answers "Prefix" / "Suffix" for the "prefix" / "suffix" it was given.
    normal = sorted((str(r["Name"]).lower(), str(r["Value"])) for r in rules)
    return json.dumps(
        [entry.get("Id"), entry.get("LambdaFunctionArn"), sorted(entry.get("Events") or []), normal]
    )


@dataclass(frozen=True)
class Subscribe(Step):
    desired: DesiredStage
    topic: str

    def describe(self) -> str:
        return f"subscribe {self.desired.function}:{self.desired.alias} to SNS topic {self.topic}"


@dataclass(frozen=True)
class Unsubscribe(Step):
    desired: DesiredStage
    topic: str

    def describe(self) -> str:
        return f"unsubscribe {self.desired.function}:{self.desired.alias} from {self.topic}"


@dataclass(frozen=True)
class PutBucketNotifications(Step):
    """Write a bucket's whole notification configuration: others' entries kept as they were."""

    desired: DesiredStage
    bucket: str
    configuration: str = field(repr=False)  # canonical JSON

    def describe(self) -> str:
        return f"update the event notifications of bucket {self.bucket} (strum's entries only)"


@dataclass(frozen=True)
class PutEventRule(Step):
    desired: DesiredStage
    consumer: Consumer

    def describe(self) -> str:
        c = self.consumer
        if c.rule is None:
            return f"add {self.desired.alias} as a target of EventBridge rule {c.arn}"
        return f"EventBridge rule {c.rule}: {c.pattern} -> {self.desired.alias}"


@dataclass(frozen=True)
class RemoveEventTarget(Step):
    desired: DesiredStage
    rule_arn: str

    def describe(self) -> str:
        return f"remove {self.desired.alias} from the targets of EventBridge rule {self.rule_arn}"


@dataclass(frozen=True)
class DeleteEventRule(Step):
    desired: DesiredStage
    rule: str

    def describe(self) -> str:
        return f"delete EventBridge rule {self.rule}"


def target_id(desired: DesiredStage) -> str:
    """strum's target Id on a rule (64 characters at most, unique per alias)."""
    import hashlib

    return "strum-" + hashlib.sha256(desired.alias_arn.encode()).hexdigest()[:16]


def event_rule(function: str, name: str) -> str:
    """The name of the rule strum makes for an EventBridge consumer."""
    return f"{function}-on-{name}"


def merged_notifications(
    desired: DesiredStage, bucket: str, current: dict[str, Any]
) -> dict[str, Any]:
    """The bucket's configuration with strum's entries for this stage as the config says
    (none, for a ``desired`` without consumers: how undeploy takes them out)."""
    ours = notification_id(desired.function, "")
    kept = [
        entry
        for entry in current.get("LambdaFunctionConfigurations") or ()
        if not str(entry.get("Id", "")).startswith(ours)
    ]
    wanted = [
        bucket_entry(desired, c)
        for c in desired.consumers
        if c.source == "s3" and c.bucket == bucket
    ]
    merged = {k: v for k, v in current.items() if k != "LambdaFunctionConfigurations"}
    if kept or wanted:
        merged["LambdaFunctionConfigurations"] = kept + wanted
    return merged


def plan_consumers(desired: DesiredStage, current: CurrentConsumers) -> list[Step]:
    """Subscriptions, bucket notifications and rules to add or change, and those to drop."""
    steps: list[Step] = []
    for consumer in desired.consumers:
        if consumer.source == "sns" and consumer.arn not in current.subscribed:
            steps.append(Subscribe(desired, str(consumer.arn)))
    have = {bucket: json.loads(text) for bucket, text in current.notifications}
    ours = notification_id(desired.function, "")
    for bucket in sorted(have):
        configuration = have[bucket]
        merged = merged_notifications(desired, bucket, configuration)
        now = [
            _comparable(e)
            for e in configuration.get("LambdaFunctionConfigurations") or ()
            if str(e.get("Id", "")).startswith(ours)
        ]
        then = [
            _comparable(e)
            for e in merged.get("LambdaFunctionConfigurations") or ()
            if str(e.get("Id", "")).startswith(ours)
        ]
        if sorted(now) != sorted(then):
            steps.append(
                PutBucketNotifications(desired, bucket, json.dumps(merged, sort_keys=True))
            )
    rules = {name: (pattern, targets) for name, pattern, targets in current.rules}
    for consumer in desired.consumers:
        if consumer.source != "eventbridge":
            continue
        if consumer.rule is None:
            if consumer.arn not in current.targeted:
                steps.append(PutEventRule(desired, consumer))
            continue
        found = rules.get(consumer.rule)
        if found is None or found != (consumer.pattern, (desired.alias_arn,)):
            steps.append(PutEventRule(desired, consumer))
    wanted_rules = {c.rule for c in desired.consumers if c.rule}
    steps += [DeleteEventRule(desired, name) for name in sorted(rules) if name not in wanted_rules]
    for source, arn in current.stale:
        if source == "sns":
            steps.append(Unsubscribe(desired, arn))
        elif source == "eventbridge":
            steps.append(RemoveEventTarget(desired, arn))
    return steps
