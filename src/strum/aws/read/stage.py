"""Reading what AWS has for a stage now: read-only calls, one ``CurrentStage``.

Resources are found by their deterministic names (``<project>-<stage>`` and what derives
from it) and trusted only when they carry the stage's ``strum:project`` / ``strum:stage``
tags: a function or role of the same name that strum did not create is never changed.
"""

from __future__ import annotations

from typing import Any

from strum.aws.client import AwsClient
from strum.aws.model import (
    ROLE_POLICY_NAME,
    SID_PREFIXES,
    CurrentApi,
    CurrentDomain,
    CurrentStage,
    DesiredStage,
    Schedule,
    owned,
    role_name,
)
from strum.aws.read.consumers import read_consumers
from strum.aws.read.domain import owned_domains, read_domain
from strum.deploy.errors import DeployError


def _foreign(kind: str, name: str, stage: str) -> DeployError:
    return DeployError(
        f"a {kind} named {name} exists but strum did not create it for stage {stage!r} (it "
        "lacks the strum:project / strum:stage tags); strum will not change it. Delete or "
        "rename it, or give the project another name"
    )


def current_stage(client: AwsClient, desired: DesiredStage) -> CurrentStage:
    """What AWS has for ``desired``'s stage now."""
    role_policy = None
    role = client.get_role(role_name(desired.function))
    if role is not None:
        tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags") or ()}
        if not owned(tags, desired.project, desired.stage):
            if desired.role_name is not None:
                raise _foreign("IAM role", role_name(desired.function), desired.stage)
            role = None  # the user's own role of that name: not ours to touch
        else:
            role_policy = client.get_role_policy(role["RoleName"], ROLE_POLICY_NAME)
    layer_arn = None
    if desired.layer_name:
        layer_arn = next(
            (
                str(version["LayerVersionArn"])
                for version in client.list_layer_versions(desired.layer_name)
                if version.get("Description") == desired.layer_marker
            ),
            None,
        )
    found = client.get_function(desired.function)
    function_part: dict[str, Any] = {}
    if found is not None:
        tags = dict(found.get("Tags") or {})
        if not owned(tags, desired.project, desired.stage):
            raise _foreign("Lambda function", desired.function, desired.stage)
        function_part = _function_state(client, desired, found, tags)
    api = find_api(client, desired.project, desired.stage)
    domain: CurrentDomain | None = None
    domains: tuple[str, ...] = ()
    if desired.domain or api is not None:  # domains exist only on HTTP APIs
        mine = owned_domains(client, desired.project, desired.stage)
        domains = tuple(sorted(str(found["DomainName"]) for found in mine))
        domain = read_domain(client, desired, mine)
    statements = tuple(function_part.get("statements") or ())
    consumers = None
    if desired.consumers or any(
        str(st.get("Sid")).startswith(tuple(SID_PREFIXES.values())) for st in statements
    ):
        consumers = read_consumers(client, desired, statements)
    return CurrentStage(
        role=role,
        role_policy=role_policy,
        layer_arn=layer_arn,
        rules=_rules(client, desired),
        api=api,
        log_group=client.get_log_group(desired.log_group),
        domain=domain,
        domains=domains,
        consumers=consumers,
        **function_part,
    )


def _function_state(
    client: AwsClient, desired: DesiredStage, found: dict[str, Any], tags: dict[str, str]
) -> dict[str, Any]:
    name, alias = desired.function, desired.alias
    alias_record = client.get_alias(name, alias)
    aliased = None
    statements: list[dict[str, Any]] = []
    url = event_invoke = None
    if alias_record is not None:
        aliased = client.get_configuration(name, alias_record["FunctionVersion"])
        url = client.get_url_config(name, alias)
        statements = client.get_policy(name, alias)
        event_invoke = _event_invoke(client.get_event_invoke_config(name, alias))
    return {
        "function": found["Configuration"],
        "tags": tags,
        "concurrency": (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
        "alias": alias_record,
        "aliased": aliased,
        "url": url,
        "statements": tuple(statements),
        "event_invoke": event_invoke,
        # Listed by the alias's ARN: mappings are created on the alias, and a listing by the
        # bare name need not include them.
        "mappings": tuple(client.list_mappings(desired.alias_arn)),
    }


def _event_invoke(config: dict[str, Any] | None) -> tuple[int, int, str | None, str | None] | None:
    if config is None:
        return None
    destinations = config.get("DestinationConfig") or {}
    wanted = (
        int(config.get("MaximumRetryAttempts", 2)),
        int(config.get("MaximumEventAgeInSeconds", 21600)),
        (destinations.get("OnSuccess") or {}).get("Destination") or None,
        (destinations.get("OnFailure") or {}).get("Destination") or None,
    )
    # A stored config equal to the defaults is the same as none (undeploy deletes it anyway).
    return None if wanted == (2, 21600, None, None) else wanted


def _rules(
    client: AwsClient, desired: DesiredStage
) -> tuple[tuple[Schedule, tuple[str, ...]], ...]:
    found = []
    prefix = f"{desired.function}-"
    names = {schedule.rule: schedule.schedule for schedule in desired.schedules}
    for rule in client.list_rules(prefix):
        tags = client.rule_tags(rule["Arn"])
        # Rules of event consumers (``strum:event``) are not schedules: see strum.aws.plan.consumers.
        if not owned(tags, desired.project, desired.stage) or "strum:event" in tags:
            continue
        name = str(rule["Name"])
        schedule = Schedule(
            schedule=names.get(name, name[len(prefix) :]),
            rule=name,
            expression=str(rule.get("ScheduleExpression") or ""),
            enabled=rule.get("State") == "ENABLED",
        )
        targets = tuple(str(target["Arn"]) for target in client.rule_targets(name))
        found.append((schedule, targets))
    return tuple(found)


def find_api(client: AwsClient, project: str, stage: str) -> CurrentApi | None:
    """The stage's HTTP API (found by its tags), with the parts strum manages."""
    api = next(
        (api for api in client.list_apis() if owned(api.get("Tags") or {}, project, stage)), None
    )
    if api is None:
        return None
    parts = client.api_parts(api["ApiId"])
    integration = next(iter(parts["integrations"]), {})
    route = next((r for r in parts["routes"] if r.get("RouteKey") == "$default"), {})
    return CurrentApi(
        api_id=str(api["ApiId"]),
        endpoint=str(api.get("ApiEndpoint") or ""),
        integration_id=integration.get("IntegrationId"),
        integration_uri=integration.get("IntegrationUri"),
        payload_version=integration.get("PayloadFormatVersion"),
        route_id=route.get("RouteId"),
        route_target=route.get("Target"),
        has_default_stage=any(s.get("StageName") == "$default" for s in parts["stages"]),
    )
