"""SNS, S3 and EventBridge consumers in a stage's CloudFormation template.

What ``strum.aws.plan.consumers`` plans for a deploy, as resources where CloudFormation can make
them: an ``AWS::SNS::Subscription`` of the alias to the topic, and strum's own rule
``<function>-on-<name>`` with the alias as its target. The permissions come with the rest of
the alias's grants (``DesiredStage.grants``).

Two cannot be resources: a stack can only configure notifications on a bucket it creates
(``AWS::S3::Bucket``'s ``NotificationConfiguration``), and only add targets to rules it
creates. For the user's bucket and the user's rule the template carries the permission and
``manual_steps`` says what to add once the stack exists (it is in the template's
``Metadata`` too, with the S3 entry to merge).
"""

from __future__ import annotations

import json
from typing import Any

from strum.aws.plan.consumers import bucket_entry
from strum.aws.template.cfn import logical_id, resource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import DesiredStage

ALIAS_OUTPUT = "(the stack's AliasArn output)"


def consumer_resources(d: DesiredStage, taken: dict[str, Any]) -> dict[str, Any]:
    """The subscriptions and rules of the stage's pushed consumers, by logical id."""
    resources: dict[str, Any] = {}
    for consumer in d.consumers:
        name = f"consumer-{consumer.name}"
        if consumer.source == "sns":
            resources[logical_id(name, "Subscription", {**taken, **resources})] = resource(
                "AWS::SNS::Subscription",
                TopicArn=consumer.arn,
                Protocol="lambda",
                Endpoint={"Ref": "Alias"},
            )
        elif consumer.source == "eventbridge" and consumer.rule is not None:
            resources[logical_id(name, "Rule", {**taken, **resources})] = resource(
                "AWS::Events::Rule",
                Name=consumer.rule,
                EventPattern=json.loads(str(consumer.pattern)),
                State="ENABLED",
                Description=f"strum: {d.function} event {consumer.name}",
                Targets=[{"Id": "strum", "Arn": {"Ref": "Alias"}}],
            )
    return resources


def outside_the_stack(d: DesiredStage) -> list[dict[str, Any]]:
    """What the stack cannot do itself, for the template's ``Metadata``: per consumer, the
    step to take after the stack is created (and to undo before it is deleted)."""
    found: list[dict[str, Any]] = []
    for consumer, text in _manual(d):
        item: dict[str, Any] = {"event": consumer.name, "source": consumer.source, "todo": text}
        if consumer.source == "s3":
            entry = bucket_entry(d, consumer)
            item["bucket"] = consumer.bucket
            item["LambdaFunctionConfiguration"] = {**entry, "LambdaFunctionArn": ALIAS_OUTPUT}
        found.append(item)
    return found


def manual_steps(d: DesiredStage) -> list[str]:
    """``outside_the_stack`` as sentences, for ``strum template`` to print."""
    return [text for _, text in _manual(d)]


def _manual(d: DesiredStage) -> list[tuple[Any, str]]:
    steps = []
    for consumer in d.consumers:
        if consumer.source == "s3":
            entry_id = bucket_entry(d, consumer)["Id"]
            steps.append(
                (
                    consumer,
                    f"event {consumer.name!r}: CloudFormation cannot add a notification to "
                    f"bucket {consumer.bucket}, which the stack does not own. The stack grants "
                    f"S3 the permission; then add the entry {entry_id} (in the template's "
                    "Metadata) to the bucket's LambdaFunctionConfigurations with aws s3api "
                    "get-/put-bucket-notification-configuration, LambdaFunctionArn set to the "
                    "stack's AliasArn output, and take it out before deleting the stack",
                )
            )
        elif consumer.source == "eventbridge" and consumer.rule is None:
            rule = str(consumer.arn).rsplit("/", 1)[-1]
            steps.append(
                (
                    consumer,
                    f"event {consumer.name!r}: CloudFormation cannot add a target to rule "
                    f"{rule}, which the stack does not own. The stack grants EventBridge the "
                    f"permission; then run aws events put-targets --rule {rule} --targets "
                    "Id=strum,Arn=<the stack's AliasArn output>, and remove-targets before "
                    "deleting the stack",
                )
            )
    return steps
