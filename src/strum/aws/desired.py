"""The desired side of an AWS deploy: the stage's packages built for Lambda, and the
``DesiredStage`` that says what every resource of the stage should be."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.model import Consumer, DesiredStage, Mapping, Schedule, canonical, role_name
from strum.aws.packages import DIRECT_UPLOAD_LIMIT, split_package
from strum.aws.plan.consumers import event_rule
from strum.deploy.environment import function_environment
from strum.deploy.errors import DeployError
from strum.deploy.stage import event_invoke, function_description, package_spec, rule_name
from strum.deploy.target import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.platform.home import Home

POLLED_SOURCES = ("sqs", "kinesis", "dynamodb")


def desired_stage(
    config: ProjectConfig,
    home: Home,
    client: AwsClient,
    report: Reporter,
    notes: list[str],
    *,
    upload_limit: int = DIRECT_UPLOAD_LIMIT,
) -> DesiredStage:
    """Build the stage's packages for Lambda and describe everything the stage should be.

    Packages larger than ``upload_limit`` bytes zipped go through S3 (tests lower it).
    """
    region = str(client.resolved_region())
    with report("checking the AWS account"):
        identity = client.identity()
    account, partition = str(identity["Account"]), str(identity["Arn"]).split(":")[1]
    desired = build_desired_stage(
        config, home, report, notes, account=account, region=region, partition=partition
    )
    uploads = _s3_uploads(config, desired, upload_limit)
    return replace(desired, **uploads) if uploads else desired


def build_desired_stage(
    config: ProjectConfig,
    home: Home,
    report: Reporter,
    notes: list[str],
    *,
    account: str,
    region: str,
    partition: str,
    host: dict[str, str] | None = None,
) -> DesiredStage:
    """``desired_stage`` for a known account, region and partition: no AWS call.

    ``strum template`` passes CloudFormation's pseudo parameters here (see
    ``strum.aws.template``) and ``host`` to stand in for the shell's variables.
    """
    from strum.build import Target, build
    from strum.deploy.policy import (
        execution_policy,
        policy_warnings,
        project_uses_tasks,
        trust_policy,
    )

    function = config.function_name
    target = Target(config.python, config.architecture, "aws")
    spec = package_spec(config, target, home)
    with report(f"building the package for {target.key}"):
        artifact = build(spec)
    notes.extend(artifact.notes)
    code_zip, code_sha, layer_zip, layer_sha = split_package(artifact, home.root / "cache")
    own_role = config.role_arn is None
    if own_role and len(role_name(function)) > 64:
        raise DeployError(
            f"the role name {role_name(function)} is longer than IAM's 64 characters; shorten "
            "the project or stage name, or set role_arn to a role of your own"
        )
    policy = execution_policy(
        config,
        account=account,
        region=region,
        partition=partition,
        uses_tasks=project_uses_tasks(config.project_dir),
    )
    notes.extend(policy_warnings(config))
    schedules = []
    for name, schedule in sorted(config.schedules.items()):
        rule = rule_name(config, name)
        if len(rule) > 64:
            raise DeployError(
                f"the EventBridge rule name {rule} is longer than 64 characters; use a shorter "
                f"name for schedule {name!r} in [tool.strum.schedules]"
            )
        schedules.append(Schedule(name, rule, schedule.expression, schedule.enabled))
    lambda_arn = f"arn:{partition}:lambda:{region}:{account}:function:"
    return DesiredStage(
        project=config.project,
        stage=config.stage,
        function=function,
        region=region,
        account=account,
        partition=partition,
        code_zip=code_zip,
        code_sha256=base64.b64encode(bytes.fromhex(code_sha)).decode(),
        runtime=f"python{target.python}",
        architecture=target.architecture,
        role_arn=config.role_arn or f"arn:{partition}:iam::{account}:role/{role_name(function)}",
        role_name=role_name(function) if own_role else None,
        trust=canonical(trust_policy()),
        policy=canonical(policy),
        layer_name=f"{config.project}-deps",
        layer_marker=f"strum deps sha256:{layer_sha} {target.key}",
        layer_zip=layer_zip,
        memory=config.memory,
        timeout=config.timeout,
        ephemeral_storage=config.ephemeral_storage,
        environment=function_environment(config, notes, host),
        description=function_description(config),
        reserved_concurrency=config.reserved_concurrency,
        url=config.url and not config.http_api,
        invoke_mode="RESPONSE_STREAM" if config.stream else "BUFFERED",
        http_api=config.http_api,
        domain=config.domain,
        schedules=tuple(schedules),
        mappings=_mappings(config, notes),
        consumers=desired_consumers(config),
        log_retention_days=config.log_retention_days,
        event_invoke=event_invoke(config, lambda_arn),
        file_systems=tuple((v.efs, v.path) for v in config.volumes if v.efs is not None),
        vpc=(config.vpc.subnets, config.vpc.security_groups) if config.vpc else None,
        check=config.check,
        project_dir=config.project_dir,
        durable=(
            (config.durable.execution_timeout, config.durable.retention_days)
            if config.durable
            else None
        ),
        snap_start=config.snap_start,
    )


def _s3_uploads(config: ProjectConfig, desired: DesiredStage, limit: int) -> dict[str, Any]:
    """Where packages over ``limit`` bytes go: S3 keys named by content hash, the bucket.

    The config's ``bucket``, else strum's own per account and region (S3 names are global,
    so the account is in it).
    """
    from strum.build.zipfiles import file_sha256

    keys = {}
    if desired.code_zip.stat().st_size > limit:
        sha = base64.b64decode(desired.code_sha256).hex()
        keys["code_key"] = f"strum/{config.project}/code-{sha}.zip"
    layer = desired.layer_zip
    if layer is not None and layer.stat().st_size > limit:
        keys["layer_key"] = f"strum/{config.project}/layer-{file_sha256(layer)}.zip"
    if not keys:
        return {}
    return {
        "bucket": config.bucket or f"strum-{desired.account}-{desired.region}",
        "bucket_owned": config.bucket is None,
        **keys,
    }


def _mappings(config: ProjectConfig, notes: list[str]) -> tuple[Mapping, ...]:
    mappings = []
    for name, event in sorted(config.events.items()):
        if event.source not in POLLED_SOURCES:  # pushed: see strum.aws.plan.consumers
            continue
        position = event.starting_position or ("LATEST" if event.source != "sqs" else None)
        mappings.append(
            Mapping(
                name=name,
                source_arn=str(event.arn),
                enabled=event.enabled,
                batch_size=event.batch_size,
                batch_window=event.batch_window,
                starting_position=position,
                report_failures=event.batch == "record",
            )
        )
    return tuple(mappings)


def desired_consumers(config: ProjectConfig) -> tuple[Consumer, ...]:
    """The config's SNS, S3 and EventBridge consumers (checked by the config loader)."""
    consumers = []
    for name, event in sorted(config.events.items()):
        if event.source not in ("sns", "s3", "eventbridge"):
            continue
        own_rule = event.source == "eventbridge" and event.arn is None
        rule = event_rule(config.function_name, name) if own_rule else None
        if rule is not None and len(rule) > 64:
            raise DeployError(
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
