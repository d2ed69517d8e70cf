"""The AWS target: config + build + AWS Lambda, end to end.

The same shape as ``strum.deploy.local``: ``deploy``, ``status``, ``rollback``,
``undeploy`` and ``invoke`` take a resolved stage config. The function of a stage is
``<project>-<stage>``, its alias is the stage name and everything a deploy creates carries
the ``strum:project`` and ``strum:stage`` tags, which is how status and undeploy find it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from strum.aws.client import AwsClient, CallLog
from strum.aws.errors import AwsDeployError, AwsError
from strum.aws.plan import plan_deploy
from strum.aws.state import current_stage, find_api, owned, role_name
from strum.deploy.plan import Step

Reporter = Callable[[str], AbstractContextManager[Any]]
Notify = Callable[[str], None]


@dataclass
class AwsDeployResult:
    """What a deploy did: its steps (empty when nothing changed), URL, version, calls."""

    function: str
    alias: str
    steps: list[Step]
    url: str | None
    version: str | None
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    calls: CallLog = field(default_factory=CallLog)


def connect(config: Any) -> AwsClient:
    """A client for the stage's region and profile; a stage without a region is an error."""
    client = AwsClient(config.region, config.profile)
    if client.resolved_region() is None:
        raise AwsDeployError(
            f"stage {config.stage!r} targets AWS but no region is set: add region = "
            f'"eu-west-1" (for example) under [tool.strum.stages.{config.stage}], or set '
            "AWS_DEFAULT_REGION / a region in the AWS profile"
        )
    return client


def deploy(
    config: Any,
    home: Any,
    report: Reporter,
    notify: Notify,
    *,
    dry_run: bool = False,
    client: AwsClient | None = None,
    patience: Any = None,
    upload_limit: int | None = None,
) -> AwsDeployResult:
    """Package -> plan -> execute for an AWS stage; idempotent, and resumable on failure.

    Packages over ``upload_limit`` bytes zipped (Lambda's 50 MB by default) go through S3.
    """
    from strum.aws.desired import DIRECT_UPLOAD_LIMIT, desired_stage
    from strum.aws.execute import Executor

    client = client or connect(config)
    notes: list[str] = []
    limit = DIRECT_UPLOAD_LIMIT if upload_limit is None else upload_limit
    desired = desired_stage(config, home, client, report, notes, upload_limit=limit)
    with report("reading what the stage has on AWS"):
        current = current_stage(client, desired)
    steps = plan_deploy(desired, current)
    result = AwsDeployResult(desired.function, desired.alias, steps, None, None, notes, dry_run)
    result.calls = client.log
    if dry_run:
        return result
    executor = Executor(client, notify, current.layer_arn, patience)
    try:
        produced = executor.run(steps, report)
    except AwsError as exc:
        serving = (current.alias or {}).get("FunctionVersion")
        if executor.produced.get("alias_moved"):
            where = f"version {executor.produced['version']} already serves the stage"
        elif serving:
            where = f"the stage still serves version {serving}"
        else:
            where = "nothing serves the stage yet"
        raise AwsDeployError(
            f"the deploy of {desired.function} stopped: {exc}. {where[0].upper()}{where[1:]}; "
            f"fix the cause and run `strum deploy {desired.stage}` again: it picks up where "
            "this one stopped"
        ) from exc
    if desired.domain:
        result.url = f"https://{desired.domain}"
    elif desired.http_api:
        result.url = produced.get("api_endpoint") or (current.api.endpoint if current.api else None)
    elif desired.url:
        result.url = produced.get("url") or (current.url or {}).get("FunctionUrl")
    result.version = produced.get("version") or (current.alias or {}).get("FunctionVersion")
    return result


def _owned_function(client: AwsClient, config: Any) -> dict[str, Any] | None:
    """The stage's function if it exists and strum deployed it for this stage."""
    found = client.get_function(config.function_name)
    if found is None:
        return None
    if not owned(dict(found.get("Tags") or {}), config.project, config.stage):
        raise AwsDeployError(
            f"the Lambda function {config.function_name} was not deployed by strum for stage "
            f"{config.stage!r} (it lacks the strum:project / strum:stage tags); strum leaves it alone"
        )
    return found


def status(config: Any, client: AwsClient | None = None) -> dict[str, Any]:
    """The stage as deployed on AWS; ``deployed`` False if there is no function."""
    from strum.deploy.local import configuration_summary

    client = client or connect(config)
    name, stage = config.function_name, config.stage
    base: dict[str, Any] = {
        "function": name,
        "stage": stage,
        "target": "aws",
        "platform": f"AWS {client.resolved_region()}",
    }
    found = _owned_function(client, config)
    if found is None:
        return {**base, "deployed": False}
    configuration = found["Configuration"]
    alias = client.get_alias(name, stage)
    url = client.get_url_config(name, stage) if alias else None
    api = find_api(client, config.project, stage)
    rule_prefix = f"{name}-"
    rules = {
        str(rule["Name"])[len(rule_prefix) :]: rule
        for rule in client.list_rules(rule_prefix)
        if owned(client.rule_tags(rule["Arn"]), config.project, stage)
    }
    return {
        **base,
        "deployed": True,
        "version": alias["FunctionVersion"] if alias else None,
        "versions": [v["Version"] for v in client.list_versions(name) if v["Version"] != "$LATEST"],
        "url": api.endpoint if api else (url["FunctionUrl"] if url else None),
        "domain": config.domain if api else None,
        **configuration_summary(configuration),
        "role": configuration.get("Role"),
        "layers": [layer["Arn"] for layer in configuration.get("Layers") or ()],
        "schedules": {
            schedule: {"expression": rule.get("ScheduleExpression"), "next": rule.get("State")}
            for schedule, rule in sorted(rules.items())
        },
        "dead_letters": 0,
    }


def rollback(
    config: Any, steps_back: int, report: Reporter, client: AwsClient | None = None
) -> tuple[str, str]:
    """Point the stage's alias ``steps_back`` published versions back; return (from, to)."""
    client = client or connect(config)
    name, stage = config.function_name, config.stage
    if _owned_function(client, config) is None:
        raise AwsDeployError(f"{name} is not deployed on AWS; run `strum deploy {stage}` first")
    alias = client.get_alias(name, stage)
    if alias is None:
        raise AwsDeployError(f"{name} has no {stage} alias; run `strum deploy {stage}` first")
    now = str(alias["FunctionVersion"])
    published = sorted(
        int(v["Version"]) for v in client.list_versions(name) if v["Version"].isdigit()
    )
    older = [version for version in published if now.isdigit() and version < int(now)]
    if len(older) < steps_back:
        raise AwsDeployError(
            f"{name}:{stage} serves version {now}; there are only {len(older)} older "
            "version(s) to roll back to"
        )
    target = str(older[-steps_back])
    with report(f"moving alias {stage} from version {now} to {target}"):
        client.update_alias(name, stage, target)
    return now, target


def undeploy(
    config: Any, report: Reporter, *, purge_logs: bool = False, client: AwsClient | None = None
) -> bool:
    """Remove everything the stage's deploys created; False if nothing was there.

    The log group stays unless ``purge_logs``: logs often outlive what wrote them. Layer
    versions go when no other function of the project uses them.
    """
    client = client or connect(config)
    name, stage, project = config.function_name, config.stage, config.project
    removed = False
    found = _owned_function(client, config)
    prefix = f"{name}-"
    rules = [
        str(rule["Name"])
        for rule in client.list_rules(prefix)
        if owned(client.rule_tags(rule["Arn"]), project, stage)
    ]
    for rule in rules:
        with report(f"deleting schedule rule {rule}"):
            client.delete_rule(rule)
        removed = True
    removed = _remove_domains(client, config, report) or removed
    api = find_api(client, project, stage)
    if api is not None:
        with report(f"deleting HTTP API {api.api_id}"):
            client.delete_api(api.api_id)
        removed = True
    if found is not None:
        removed = _detach_consumers(client, config, found, report) or removed
        with report(f"removing {name} (event sources, URL, alias, versions, code)"):
            alias_arn = f"{found['Configuration']['FunctionArn']}:{stage}"
            mappings = {m["UUID"]: m for m in client.list_mappings(alias_arn)}
            mappings.update({m["UUID"]: m for m in client.list_mappings(name)})
            for uuid in sorted(mappings):
                client.delete_mapping(str(uuid))
            client.delete_function(name)
        removed = True
    role = client.get_role(role_name(name))
    if role is not None:
        tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags") or ()}
        if owned(tags, project, stage):
            with report(f"deleting role {role_name(name)}"):
                client.delete_role(role_name(name))
            removed = True
    removed = _remove_unused_layers(client, config, report) or removed
    group = client.get_log_group(f"/aws/lambda/{name}")
    if group is not None and purge_logs:
        with report(f"deleting log group {group['logGroupName']}"):
            client.delete_log_group(str(group["logGroupName"]))
        removed = True
    return removed


def _detach_consumers(
    client: AwsClient, config: Any, found: dict[str, Any], report: Reporter
) -> bool:
    """Unsubscribe the stage from SNS topics, buckets and others' rules (its policy says which)."""
    from pathlib import Path

    from strum.aws.consumers_io import detach_consumers
    from strum.aws.plan import DesiredStage

    _, partition, _, region, account, *_ = str(found["Configuration"]["FunctionArn"]).split(":")
    stage = DesiredStage(
        project=config.project,
        stage=config.stage,
        function=config.function_name,
        region=region,
        account=account,
        partition=partition,
        code_zip=Path(),
        code_sha256="",
        runtime="",
        architecture="",
        role_arn="",
        role_name=None,
    )
    with report("taking the stage off the SNS topics, S3 buckets and rules it consumes"):
        return bool(detach_consumers(client, stage))


def _remove_domains(client: AwsClient, config: Any, report: Reporter) -> bool:
    """Remove the stage's custom domains (before the API their mappings hold on to)."""
    import time

    from strum.aws.domain_io import owned_domains, remove_domain, remove_stage_certificates

    project, stage = config.project, config.stage
    removed = False
    for found in owned_domains(client, project, stage):
        name = str(found["DomainName"])
        with report(f"removing custom domain {name} (mapping, DNS record, certificate)"):
            remove_domain(client, name, project, stage, time.sleep)
        removed = True
    if config.domain:
        with report(f"checking for certificates strum requested for {config.domain}"):
            removed = (
                remove_stage_certificates(client, config.domain, project, stage, time.sleep)
                or removed
            )
    return removed


def _remove_unused_layers(client: AwsClient, config: Any, report: Reporter) -> bool:
    layer = f"{config.project}-deps"
    versions = [
        v
        for v in client.list_layer_versions(layer)
        if str(v.get("Description", "")).startswith("strum deps ")
    ]
    if not versions:
        return False
    used: set[str] = set()
    for arn in client.tagged({"strum:project": config.project}, "lambda:function"):
        other = client.get_configuration(arn)
        used.update(str(layer["Arn"]) for layer in (other or {}).get("Layers") or ())
    unused = [v for v in versions if v["LayerVersionArn"] not in used]
    for version in unused:
        with report(f"deleting layer {layer} version {version['Version']} (no function uses it)"):
            client.delete_layer_version(layer, int(version["Version"]))
    return bool(unused)


def manage(config: Any, args: list[str], client: AwsClient | None = None) -> dict[str, Any]:
    """Run a Django management command in the deployed function: output and exit code."""
    import json

    payload = json.dumps({"strum": "manage", "args": args}).encode()
    _, headers, body = invoke(config, payload, client=client)
    if headers.get("x-amz-function-error"):
        error = json.loads(body)
        raise AwsDeployError(
            f"manage {' '.join(args)} failed: {error.get('errorType')}: {error.get('errorMessage')}"
        )
    result: dict[str, Any] = json.loads(body)
    return result


def invoke(
    config: Any, payload: bytes, *, asynchronous: bool = False, client: AwsClient | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Invoke the stage's alias on AWS: (status, headers as the local target gives them, body)."""
    client = client or connect(config)
    response = client.invoke(config.function_name, config.stage, payload, asynchronous=asynchronous)
    headers = {}
    if response.get("FunctionError"):
        headers["x-amz-function-error"] = str(response["FunctionError"])
    if response.get("LogResult"):
        headers["x-amz-log-result"] = str(response["LogResult"])
    if response.get("ExecutedVersion"):
        headers["x-amz-executed-version"] = str(response["ExecutedVersion"])
    return int(response.get("StatusCode") or 0), headers, bytes(response["Payload"])
