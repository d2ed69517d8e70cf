"""The execution policy of a stage's function, derived from what the config declares.

Both targets use it: on AWS it is the execution role's policy (``execution_policy``); on
strum's platform, whose functions call only the platform, its ``lambda:`` statements are
what an instance's credentials may do (``platform_policy``).

Least privilege by default (issue 8): the role may write the function's own logs, read the
queues and streams the config consumes, send to the async destinations it names, invoke
itself when the code uses ``@task`` - and do whatever ``permissions.aws`` adds, nothing
else. For contrast, Zappa's default role grants ``s3:*``, ``sqs:*``, ``sns:*``,
``dynamodb:*``, ``kinesis:*`` and ``route53:*`` (among others) on ``"*"``.

Pure: no boto3, no I/O except ``project_uses_tasks`` reading the project's sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import StageConfig

# What Lambda's event source mapping calls, with the function's role, to poll each source.
# SNS, S3 and EventBridge push to Lambda instead: they need a resource-based policy on the
# function (lambda:AddPermission), not anything in its role.
CONSUMER_ACTIONS = {
    "sqs": (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    ),
    "dynamodb": (
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ),
    "kinesis": (
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
        "kinesis:SubscribeToShard",
    ),
}
# Lambda delivers async invocation records to destinations with the function's role.
DESTINATION_ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "lambda": "lambda:InvokeFunction",
    "events": "events:PutEvents",
}


def execution_policy(
    config: StageConfig,
    *,
    account: str,
    region: str,
    partition: str = "aws",
    uses_tasks: bool = False,
) -> dict[str, Any]:
    """The IAM policy document of the stage's execution role, statements in a stable order.

    ``uses_tasks`` (see ``project_uses_tasks``) lets the function invoke itself, which is
    how ``task.delay`` runs work asynchronously. A ``"*"`` appears only where the user's own
    ``permissions.aws`` wrote one (``policy_warnings`` names those statements), and for the
    network interfaces of a stage in a ``vpc``, which EC2 authorises against nothing else.
    """

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    group = arn("logs", f"log-group:/aws/lambda/{config.function_name}")
    function = arn("lambda", f"function:{config.function_name}")
    statements = [
        # CloudWatch Logs authorizes most calls against the group's ARN *with* a trailing
        # ":*" (its log streams are "<group>:log-stream:<name>"); CreateLogGroup gets both
        # forms, which still name this one group only.
        _allow("CreateOwnLogGroup", ["logs:CreateLogGroup"], [group, f"{group}:*"]),
        _allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{group}:*"]),
    ]
    if uses_tasks:
        # task.delay invokes the function's own alias or version: the ":*" qualifiers.
        statements.append(
            _allow("InvokeSelfForTasks", ["lambda:InvokeFunction"], [function, f"{function}:*"])
        )
    if config.durable is not None:
        # What AWS's durable-execution SDK calls from inside the function, on the function's
        # own executions ("<function>:<version>/durable-execution/..."), and nothing more.
        statements.append(
            _allow(
                "CheckpointOwnDurableExecutions",
                ["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"],
                [f"{function}:*"],
            )
        )
    for name, event in sorted(config.events.items()):
        reads = CONSUMER_ACTIONS.get(event.source)
        if event.enabled and event.arn and reads:
            statements.append(_allow(f"Consume{_camel(name)}", reads, _consumed(event.arn)))
    outcomes = config.async_invocation
    for label, target in (("OnSuccess", outcomes.on_success), ("OnFailure", outcomes.on_failure)):
        if target is None:
            continue
        if not target.startswith("arn:"):  # a bare name: a function in this account and region
            target = arn("lambda", f"function:{target}")
        action = DESTINATION_ACTIONS[target.split(":")[2]]
        statements.append(_allow(f"AsyncDestination{label}", [action], [target]))
    if config.vpc is not None:
        # What AWS's AWSLambdaVPCAccessExecutionRole grants: Lambda makes the function's
        # network interfaces as the role, and EC2 authorises these actions against "*" only.
        statements.append(_allow("VpcNetworkInterfaces", VPC_ACTIONS, ["*"]))
    for volume in config.volumes:
        if volume.efs is not None:
            statements.append(_efs_mount(volume.name, volume.efs))
    for index, declared in enumerate(config.permissions.aws, 1):
        actions, resource = _parse_declared(declared)
        statements.append(_allow(f"Declared{index}", actions, [resource]))
    return {"Version": "2012-10-17", "Statement": _unique_sids(statements)}


def _efs_mount(name: str, access_point: str) -> dict[str, Any]:
    """Mounting ``access_point`` read-write: EFS authorises against the file system's ARN,
    which the access point's does not carry, so any file system of the account - through
    this access point only (the condition EFS sets on every mount through one)."""
    prefix, _, _ = access_point.rpartition(":access-point/")
    statement = _allow(
        f"MountVolume{_camel(name)}",
        ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        [f"{prefix}:file-system/*"],
    )
    statement["Condition"] = {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point}}
    return statement


def policy_warnings(config: StageConfig) -> list[str]:
    """One message per ``permissions.aws`` statement broader than one service's resources.

    Such statements are kept - the user wrote them - but a deploy should say what they
    grant: a wildcard action or resource is how a leaked function turns into a leaked account.
    """
    warnings = []
    for declared in config.permissions.aws:
        actions, resource = _parse_declared(declared)
        problems = []
        if "*" in actions:
            problems.append("every action of every service")
        elif services := [action[:-2] for action in actions if action.endswith(":*")]:
            problems.append(f"every action of {', '.join(services)}")
        if resource == "*":
            problems.append("every resource in the account")
        if problems:
            warnings.append(
                f'permissions.aws "{declared}" grants {" on ".join(problems)}; name the '
                "actions and the ARNs the function needs instead"
            )
    return warnings


def trust_policy() -> dict[str, Any]:
    """The role's trust policy: only the Lambda service may assume it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def project_uses_tasks(project_dir: Path, files: Iterable[Path] | None = None) -> bool:
    """Whether the project's code uses ``strum.task``, read statically (nothing is imported).

    ``files`` are the Python files to read (default: those a package of the project ships).
    Files that do not parse are skipped: they cannot run on Lambda either.
    """
    import ast

    if files is None:
        from strum.build.files import project_files

        files = (path for name, path in project_files(project_dir) if name.endswith(".py"))
    for path in files:
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue
        if _uses_tasks(tree):
            return True
    return False


def _uses_tasks(tree: Any) -> bool:
    import ast

    tasks = "strum.runtime.tasks"
    bound: dict[str, str] = {}  # local name -> the strum module it refers to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = {alias.name for alias in node.names}
            if node.module == tasks or node.module.startswith(tasks + "."):
                return True
            if (node.module == "strum" and names & {"task", "*"}) or (
                node.module == "strum.runtime" and names & {"tasks", "*"}
            ):
                return True
            if node.module == "strum":
                bound.update({a.asname or a.name: f"strum.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == tasks or alias.name.startswith(tasks + "."):
                    return True
                if alias.name.split(".")[0] == "strum":
                    # "import strum.runtime" binds "strum"; "import strum.runtime as r" binds r.
                    local = alias.asname or "strum"
                    bound[local] = alias.name if alias.asname else "strum"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                continue
            root, _, rest = dotted.partition(".")
            if root in bound:
                full = f"{bound[root]}.{rest}"
                if full == "strum.task" or full.startswith(("strum.task.", tasks)):
                    return True
    return False


def _dotted(node: Any) -> str | None:
    import ast

    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def _allow(sid: str, actions: Iterable[str], resources: Iterable[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def _consumed(source_arn: str) -> list[str]:
    # An enhanced fan-out consumer ("<stream>/consumer/<name>:<ts>") is read through
    # SubscribeToShard on the consumer; the other calls name its stream.
    stream, marker, _ = source_arn.partition("/consumer/")
    return [stream, source_arn] if marker else [source_arn]


def platform_policy(config: StageConfig, *, uses_tasks: bool = False) -> dict[str, Any]:
    """What the stage's instances may do on strum's platform with their credentials: the
    ``lambda:`` part of ``execution_policy`` (invoking itself for ``@task``, and the
    ``lambda:`` statements ``permissions.aws`` declares), in any region and account - the
    platform names its own. Logs, queues and destinations are the platform's business."""
    document = execution_policy(config, account="*", region="*", uses_tasks=uses_tasks)
    statements = []
    for statement in document["Statement"]:
        actions = [action for action in statement["Action"] if action.startswith("lambda:")]
        if actions and not statement["Sid"].startswith("AsyncDestination"):
            statements.append({**statement, "Action": actions})
    if not statements:
        # A policy with no statement is no policy to IAM: deny everything explicitly instead.
        statements.append(
            {"Sid": "NothingByDefault", "Effect": "Deny", "Action": "lambda:*", "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _parse_declared(statement: str) -> tuple[list[str], str]:
    """``"s3:GetObject,s3:PutObject arn:..."`` as (actions, resource); see config._tables."""
    actions, resource = statement.split()
    return actions.split(","), resource


def _camel(name: str) -> str:
    # Sids allow only ASCII letters and digits; event names also allow ".", "-" and "_".
    words = name.replace(".", "_").replace("-", "_").split("_")
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def _unique_sids(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # "orders-queue" and "orders_queue" are distinct names with the same Sid; IAM refuses
    # a policy whose Sids repeat.
    used: set[str] = set()
    for statement in statements:
        sid, number = statement["Sid"], 1
        while statement["Sid"] in used:
            number += 1
            statement["Sid"] = f"{sid}{number}"
        used.add(statement["Sid"])
    return statements
