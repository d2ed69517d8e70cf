"""``[tool.strum.durable]``: a stage's function as a Lambda durable function, its
``DurableConfig`` on both targets, and the two SDK actions its execution policy grants."""

from __future__ import annotations

from strum.config import Durable, load_config
from strum.deploy.policy import execution_policy, platform_policy
from strum.deploy.steps import changed_fields, durable_config
from tests.config.support import problems


def test_durations_defaults_and_a_stage_merging_key_by_key(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        durable = { execution_timeout = "7d" }

        [tool.strum.stages.prod]
        target = "aws"
        region = "eu-west-1"
        durable = { retention_days = 30 }
        """
    )
    assert load_config(directory).durable == Durable(execution_timeout=604_800, retention_days=14)
    assert load_config(directory, "prod").durable == Durable(604_800, 30)


def test_a_stage_without_the_table_is_not_durable(project):
    assert load_config(project('[tool.strum]\napp = "hello:app"\n')).durable is None


def test_bad_values_say_what_lambda_allows(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        durable = { execution_timeout = "2y", retention_days = 91, retries = 3 }
        """
    )
    found = "\n".join(problems(directory))
    assert '"90s", "15m", "12h", "7d"' in found
    assert "1 to 90" in found
    assert "retries" in found


def test_the_policy_grants_checkpoints_on_its_own_executions_only(project):
    config = load_config(
        project('[tool.strum]\napp = "hello:app"\ndurable = { execution_timeout = 60 }\n')
    )
    document = execution_policy(config, account="123456789012", region="eu-west-1")
    (statement,) = [
        s for s in document["Statement"] if s["Sid"] == "CheckpointOwnDurableExecutions"
    ]
    assert statement["Action"] == [
        "lambda:CheckpointDurableExecution",
        "lambda:GetDurableExecutionState",
    ]
    assert statement["Resource"] == ["arn:aws:lambda:eu-west-1:123456789012:function:hello-dev:*"]
    local = platform_policy(config)
    assert any(s["Sid"] == "CheckpointOwnDurableExecutions" for s in local["Statement"])


def test_durable_config_is_compared_like_lambda_reports_it():
    wanted = durable_config((60, 14))
    assert wanted == {"DurableConfig": {"ExecutionTimeout": 60, "RetentionPeriodInDays": 14}}
    reported = {"DurableConfig": {"ExecutionTimeout": 60, "RetentionPeriodInDays": 14}}
    assert changed_fields(wanted, reported) == ()
    assert changed_fields(wanted, {}) == ("DurableConfig",)
    assert durable_config(None) == {}
