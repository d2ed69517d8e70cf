"""EventBridge, SNS and CloudWatch Logs calls of ``strum.aws.client.AwsClient``."""

from __future__ import annotations

from typing import Any

from strum.aws.client.base import ClientBase
from strum.aws.errors import AwsError


class EventCalls(ClientBase):
    """EventBridge rules and targets; SNS subscriptions; CloudWatch log groups."""

    # -- EventBridge ----------------------------------------------------------------------

    def list_rules(self, prefix: str) -> list[dict[str, Any]]:
        return list(self._pages("events", "list_rules", "Rules", NamePrefix=prefix))

    def rule_targets(self, rule: str) -> list[dict[str, Any]]:
        return list(self._pages("events", "list_targets_by_rule", "Targets", Rule=rule))

    def rule_tags(self, arn: str) -> dict[str, str]:
        tags = self._call("events", "list_tags_for_resource", ResourceARN=arn).get("Tags") or []
        return {tag["Key"]: tag["Value"] for tag in tags}

    def put_rule(
        self, name: str, expression: str, enabled: bool, description: str, tags: dict[str, str]
    ) -> str:
        result = self._call(
            "events",
            "put_rule",
            Name=name,
            ScheduleExpression=expression,
            State="ENABLED" if enabled else "DISABLED",
            Description=description,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
        return str(result["RuleArn"])

    def put_target(self, rule: str, target_id: str, arn: str) -> None:
        result = self._call(
            "events", "put_targets", Rule=rule, Targets=[{"Id": target_id, "Arn": arn}]
        )
        if result.get("FailedEntryCount"):
            failed = result["FailedEntries"][0]
            raise AwsError(
                f"EventBridge refused target {arn} for rule {rule}: {failed.get('ErrorMessage')}",
                str(failed.get("ErrorCode") or ""),
                "events PutTargets",
            )

    def delete_rule(self, rule: str) -> None:
        targets = [target["Id"] for target in self.rule_targets(rule)]
        if targets:
            self._call("events", "remove_targets", Rule=rule, Ids=targets)
        self._call("events", "delete_rule", Name=rule)

    # -- CloudWatch Logs ------------------------------------------------------------------

    def get_log_group(self, name: str) -> dict[str, Any] | None:
        for group in self._pages(
            "logs", "describe_log_groups", "logGroups", logGroupNamePrefix=name
        ):
            if group.get("logGroupName") == name:
                return dict(group)
        return None

    def create_log_group(self, name: str, tags: dict[str, str]) -> None:
        self._call("logs", "create_log_group", logGroupName=name, tags=tags)

    def set_retention(self, name: str, days: int | None) -> None:
        if days is None:
            self._call("logs", "delete_retention_policy", logGroupName=name)
        else:
            self._call("logs", "put_retention_policy", logGroupName=name, retentionInDays=days)

    def delete_log_group(self, name: str) -> None:
        self._call("logs", "delete_log_group", logGroupName=name)

    def put_pattern_rule(
        self, name: str, pattern: str, description: str, tags: dict[str, str]
    ) -> str:
        """A rule on the default bus matching ``pattern`` (JSON); returns its ARN."""
        result = self._call(
            "events",
            "put_rule",
            Name=name,
            EventPattern=pattern,
            State="ENABLED",
            Description=description,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
        return str(result["RuleArn"])

    def remove_target(self, rule: str, target_id: str) -> None:
        self._call("events", "remove_targets", Rule=rule, Ids=[target_id])

    # -- SNS ------------------------------------------------------------------------------

    def subscriptions(self, topic_arn: str) -> list[dict[str, Any]]:
        return list(
            self._pages("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn)
        )

    def subscribe_lambda(self, topic_arn: str, function_arn: str) -> None:
        self._call("sns", "subscribe", TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn)

    def unsubscribe(self, subscription_arn: str) -> None:
        self._call("sns", "unsubscribe", SubscriptionArn=subscription_arn)

    def filter_log_events(
        self, group: str, start_ms: int, pattern: str | None = None
    ) -> list[dict[str, Any]]:
        extra = {"filterPattern": pattern} if pattern is not None else {}
        return list(
            self._pages(
                "logs",
                "filter_log_events",
                "events",
                logGroupName=group,
                startTime=start_ms,
                **extra,
            )
        )
