"""Removing an AWS stage: everything its deploys created, found by name and by its tags.

The order is the reverse of a deploy's: what fires events at the alias (rules, domains, the
HTTP API, subscriptions) goes before the function, the role and unused layers after it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.execute.consumers import detach_consumers
from strum.aws.execute.domain import remove_domain, remove_stage_certificates
from strum.aws.model import DesiredStage, owned, role_name
from strum.aws.read import find_api, owned_domains
from strum.deploy.errors import DeployError
from strum.deploy.target import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig


def owned_function(client: AwsClient, config: ProjectConfig) -> dict[str, Any] | None:
    """The stage's function if it exists and strum deployed it for this stage."""
    found = client.get_function(config.function_name)
    if found is None:
        return None
    if not owned(dict(found.get("Tags") or {}), config.project, config.stage):
        raise DeployError(
            f"the Lambda function {config.function_name} was not deployed by strum for stage "
            f"{config.stage!r} (it lacks the strum:project / strum:stage tags); strum leaves it alone"
        )
    return found


def undeploy_stage(
    client: AwsClient, config: ProjectConfig, report: Reporter, *, purge_logs: bool = False
) -> bool:
    """Remove everything the stage's deploys created; False if nothing was there.

    The log group stays unless ``purge_logs``: logs often outlive what wrote them. Layer
    versions go when no other function of the project uses them.
    """
    name, stage, project = config.function_name, config.stage, config.project
    removed = False
    found = owned_function(client, config)
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
    client: AwsClient, config: ProjectConfig, found: dict[str, Any], report: Reporter
) -> bool:
    """Unsubscribe the stage from SNS topics, buckets and others' rules (its policy says which)."""
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


def _remove_domains(client: AwsClient, config: ProjectConfig, report: Reporter) -> bool:
    """Remove the stage's custom domains (before the API their mappings hold on to)."""
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


def _remove_unused_layers(client: AwsClient, config: ProjectConfig, report: Reporter) -> bool:
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
