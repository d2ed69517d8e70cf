"""The execution role's policy: exactly what the config declares, never a wildcard of ours.

For contrast: Zappa's default execution role grants s3:*, sqs:*, sns:*, dynamodb:*,
kinesis:* and route53:* (among others) on "*". These tests pin that strum's grants name
one log group, the function itself, and the exact ARNs the config mentions.
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from strum.config import load_config
from strum.deploy.policy import (
    execution_policy,
    platform_policy,
    policy_warnings,
    project_uses_tasks,
    trust_policy,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
TABLE_STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders/stream/2024-01-01T00:00:00.000"
KINESIS = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-prod"

JOBS = """\
def handle(record, context):
    return None
"""


@pytest.fixture
def stage(tmp_path):
    """Write ``jobs.py`` and a pyproject.toml with ``body`` and load its ``prod`` stage.

    ``body``'s table headers are relative to ``[tool.strum]``: ``[events.orders]``.
    """
    (tmp_path / "jobs.py").write_text(JOBS)

    def load(body: str = "", prod: str = ""):
        tables = re.sub(r"(?m)^\[", "[tool.strum.", textwrap.dedent(body))
        text = '[project]\nname = "shop"\n\n[tool.strum]\n' + tables
        text += f'\n[tool.strum.stages.prod]\ntarget = "aws"\nregion = "{REGION}"\n'
        text += textwrap.dedent(prod)
        (tmp_path / "pyproject.toml").write_text(text)
        return load_config(tmp_path, "prod")

    return load


def policy(config, **options):
    return execution_policy(config, account=ACCOUNT, region=REGION, **options)


def statements(config, **options) -> dict[str, dict]:
    document = policy(config, **options)
    assert document["Version"] == "2012-10-17"
    return {statement.pop("Sid"): statement for statement in document["Statement"]}


def wildcards(document) -> list[str]:
    return [
        value
        for statement in document["Statement"]
        for value in (*statement["Action"], *statement["Resource"])
        if value == "*" or (value.endswith(":*") and value.split(":")[0] != "arn")
    ]


def test_a_bare_stage_may_only_write_its_own_logs(stage):
    assert statements(stage()) == {
        "CreateOwnLogGroup": {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup"],
            "Resource": [LOGS, f"{LOGS}:*"],
        },
        "WriteOwnLogs": {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{LOGS}:*"],
        },
    }
    assert wildcards(policy(stage())) == []


def test_partition_region_and_account_shape_every_arn(stage):
    document = execution_policy(
        stage(), account="210987654321", region="cn-north-1", partition="aws-cn"
    )
    resources = [r for statement in document["Statement"] for r in statement["Resource"]]
    assert resources
    assert all(
        r.startswith("arn:aws-cn:logs:cn-north-1:210987654321:log-group:/aws/lambda/shop-prod")
        for r in resources
    )


def test_tasks_let_the_function_invoke_itself_and_nothing_else(stage):
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-prod"
    assert "InvokeSelfForTasks" not in statements(stage())
    granted = statements(stage(), uses_tasks=True)["InvokeSelfForTasks"]
    assert granted == {
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": [function, f"{function}:*"],
    }


def test_consumers_read_exactly_their_queue_or_stream(stage):
    config = stage(
        f"""
        [events.orders]
        source = "sqs"
        function = "jobs:handle"
        arn = "{QUEUE}"

        [events.order-changes]
        source = "dynamodb"
        function = "jobs:handle"
        arn = "{TABLE_STREAM}"

        [events.clicks]
        source = "kinesis"
        function = "jobs:handle"
        arn = "{KINESIS}"
        """
    )
    granted = statements(config)
    assert granted["ConsumeOrders"] == {
        "Effect": "Allow",
        "Action": [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        ],
        "Resource": [QUEUE],
    }
    assert granted["ConsumeOrderChanges"]["Action"] == [
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ]
    assert granted["ConsumeOrderChanges"]["Resource"] == [TABLE_STREAM]
    assert granted["ConsumeClicks"]["Action"] == [
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
        "kinesis:SubscribeToShard",
    ]
    assert granted["ConsumeClicks"]["Resource"] == [KINESIS]
    # Sorted by consumer name, after the log statements: the same config, the same document.
    assert list(granted) == [
        "CreateOwnLogGroup",
        "WriteOwnLogs",
        "ConsumeClicks",
        "ConsumeOrderChanges",
        "ConsumeOrders",
    ]
    assert wildcards(policy(config)) == []


def test_an_enhanced_fan_out_consumer_also_names_its_stream(stage):
    consumer = f"{KINESIS}/consumer/strum:1700000000"
    config = stage(
        f'[events.clicks]\nsource = "kinesis"\nfunction = "jobs:handle"\narn = "{consumer}"\n'
    )
    assert statements(config)["ConsumeClicks"]["Resource"] == [KINESIS, consumer]


def test_push_sources_and_disabled_consumers_add_nothing_to_the_role(stage):
    # SNS, S3 and EventBridge invoke the function (a resource policy on it), they are not
    # polled with the role.
    config = stage(
        f"""
        [events.alerts]
        source = "sns"
        function = "jobs:handle"
        arn = "{TOPIC}"

        [events.uploads]
        source = "s3"
        function = "jobs:handle"
        arn = "arn:aws:s3:::uploads"

        [events.paused]
        source = "sqs"
        function = "jobs:handle"
        arn = "{QUEUE}"
        enabled = false
        """
    )
    assert list(statements(config)) == ["CreateOwnLogGroup", "WriteOwnLogs"]


def test_async_destinations_get_one_action_on_exactly_their_arn(stage):
    # A stage of its own: the local dev stage refuses destinations that are not functions.
    config = stage(prod=f'async = {{ on_success = "{TOPIC}", on_failure = "{QUEUE}" }}\n')
    granted = statements(config)
    assert granted["AsyncDestinationOnSuccess"] == {
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": [TOPIC],
    }
    assert granted["AsyncDestinationOnFailure"]["Action"] == ["sqs:SendMessage"]
    assert granted["AsyncDestinationOnFailure"]["Resource"] == [QUEUE]


def test_a_destination_named_by_function_is_a_function_in_the_same_account(stage):
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    config = stage(prod=f'async = {{ on_success = "{bus}", on_failure = "failures" }}\n')
    granted = statements(config)
    assert granted["AsyncDestinationOnSuccess"]["Action"] == ["events:PutEvents"]
    assert granted["AsyncDestinationOnSuccess"]["Resource"] == [bus]
    assert granted["AsyncDestinationOnFailure"] == {
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:failures"],
    }


def test_declared_statements_are_added_as_written(stage):
    config = stage(
        """
        [permissions]
        aws = [
            "s3:GetObject,s3:PutObject arn:aws:s3:::uploads/*",
            "dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/Orders",
        ]
        """
    )
    granted = statements(config)
    assert granted["Declared1"] == {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::uploads/*"],
    }
    assert granted["Declared2"]["Action"] == ["dynamodb:Query"]
    assert policy_warnings(config) == []


def test_broad_declared_statements_are_kept_and_warned_about(stage):
    config = stage(
        """
        [permissions]
        aws = ["s3:GetObject arn:aws:s3:::uploads/*", "s3:* *", "sqs:SendMessage *"]
        """
    )
    granted = statements(config)
    assert granted["Declared2"] == {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}
    assert granted["Declared3"]["Resource"] == ["*"]
    # The only wildcards are the ones the user wrote.
    assert sorted(wildcards(policy(config))) == ["*", "*", "s3:*"]
    assert policy_warnings(config) == [
        'permissions.aws "s3:* *" grants every action of s3 on every resource in the '
        "account; name the actions and the ARNs the function needs instead",
        'permissions.aws "sqs:SendMessage *" grants every resource in the account; name the '
        "actions and the ARNs the function needs instead",
    ]


def test_stage_permissions_override_the_top_level_ones(stage):
    config = stage(
        '[permissions]\naws = ["s3:* *"]\n',
        prod='permissions = { aws = ["s3:GetObject arn:aws:s3:::uploads/*"] }\n',
    )
    assert policy_warnings(config) == []
    assert statements(config)["Declared1"]["Resource"] == ["arn:aws:s3:::uploads/*"]


def test_sids_are_unique_even_when_names_collide(stage):
    config = stage(
        f"""
        [events.orders-queue]
        source = "sqs"
        function = "jobs:handle"
        arn = "{QUEUE}"

        [events.orders_queue]
        source = "sqs"
        function = "jobs:handle"
        arn = "{QUEUE}2"
        """
    )
    sids = [statement["Sid"] for statement in policy(config)["Statement"]]
    assert sids[2:] == ["ConsumeOrdersQueue", "ConsumeOrdersQueue2"]
    assert all(sid.isalnum() for sid in sids)


def test_the_document_is_plain_json(stage):
    document = policy(stage('[permissions]\naws = ["s3:GetObject arn:aws:s3:::b/*"]\n'))
    assert json.loads(json.dumps(document)) == document


def test_only_lambda_may_assume_the_role():
    assert trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


# -- project_uses_tasks: a static read of the project's code ---------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "from strum import task\n\n@task\ndef send(to): ...\n",
        "from strum import task as background\n",
        "from strum import make_handler, task\n",
        "import strum\n\n@strum.task\ndef send(to): ...\n",
        "import strum as s\n\nsend = s.task(print)\n",
        "from strum.runtime.tasks import task\n",
        "from strum.runtime import tasks\n",
        "import strum.runtime.tasks\n",
        "import strum.runtime\n\nstrum.task(print)\n",
        "def build():\n    from strum import task\n    return task\n",
    ],
)
def test_uses_of_strum_task_are_found(tmp_path, source):
    (tmp_path / "app.py").write_text(source)
    assert project_uses_tasks(tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        "from strum import make_handler\n\nhandler = make_handler(app)\n",
        "import strum\n\nhandler = strum.make_handler(app)\n",
        "task = 'strum.task'  # a string, not a use\n",
        "from celery import task\n\n@task\ndef send(): ...\n",
        "import other as strum\n",
        "def broken(:\n",
    ],
)
def test_code_without_tasks_is_not_mistaken(tmp_path, source):
    (tmp_path / "app.py").write_text(source)
    assert not project_uses_tasks(tmp_path)


def test_the_scan_reads_what_ships_or_the_files_given(tmp_path):
    (tmp_path / "app.py").write_text("from strum import make_handler\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("from strum import task\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("from strum import task\n")
    assert not project_uses_tasks(tmp_path)  # tests and virtualenvs are not shipped
    assert project_uses_tasks(tmp_path, [tmp_path / "tests" / "test_app.py"])
    assert not project_uses_tasks(tmp_path, [tmp_path / "app.py"])


def test_on_the_platform_instances_get_only_the_lambda_part(stage):
    config = stage(
        """
        [async]
        on_failure = "shop-dlq"
        [permissions]
        aws = [
            "s3:GetObject arn:aws:s3:::uploads/*",
            "lambda:InvokeFunction,s3:PutObject arn:aws:lambda:*:*:function:billing",
        ]
        """
    )
    document = platform_policy(config, uses_tasks=True)
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeSelfForTasks",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [
                    "arn:aws:lambda:*:*:function:shop-prod",
                    "arn:aws:lambda:*:*:function:shop-prod:*",
                ],
            },
            {
                "Sid": "Declared2",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": ["arn:aws:lambda:*:*:function:billing"],
            },
        ],
    }
    # The platform delivers async outcomes itself: no destination grant for the function.
    assert not any(s["Sid"].startswith("AsyncDestination") for s in document["Statement"])


def test_on_the_platform_nothing_declared_is_nothing_allowed(stage):
    from strum.platform.identity import Policy, Request

    document = platform_policy(stage(), uses_tasks=False)
    parsed = Policy.parse(document)
    request = Request("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:0:function:shop-prod")
    assert not parsed.decide(request).allowed
