"""AWS deploy planning: the stage as the config wants it vs as AWS has it -> steps.

Pure: no I/O, no boto3. ``plan_deploy`` returns frozen steps in the order they must run
(``strum.aws.execute`` carries them out); ``[]`` means the stage is already in step, and a
deploy then makes no write call at all. The desired side (``DesiredStage``) is built by
``strum.aws.desired`` from the config and the built package, the current side
(``CurrentStage``) by ``strum.aws.read`` from read-only calls. The function's own steps come
from the planner both targets share (``strum.deploy.steps``).
"""

from __future__ import annotations

from strum.aws.model import (
    HTTP_API_SID,
    CurrentConsumers,
    CurrentStage,
    DesiredStage,
    api_grant,
    canonical,
)
from strum.aws.plan.consumers import plan_consumers
from strum.aws.plan.domain import RemoveDomain, plan_domain
from strum.aws.plan.steps import (
    CreateLogGroup,
    CreateMapping,
    CreateRole,
    DeleteMapping,
    DeleteOwnRole,
    EnsureHttpApi,
    GrantPermission,
    PublishLayer,
    PutRolePolicy,
    PutSchedule,
    RemoveHttpApi,
    RemoveSchedule,
    RevokePermission,
    SetRetention,
    TagFunction,
    UpdateMapping,
    UpdateTrust,
    UploadToS3,
)
from strum.deploy.steps import (
    CreateFunction,
    Step,
    UpdateCode,
    place_url_steps,
    plan_alias,
    plan_concurrency,
    plan_event_invoke,
    plan_latest,
    plan_url,
    with_init_check,
)


def plan_deploy(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    """The steps that make ``current`` what ``desired`` says, in order; [] when in step.

    The alias moves after code and configuration are in place, and what routes traffic or
    fires events at it (URL, HTTP API, schedules, queues) comes after that: a deploy that
    fails half-way leaves the previous version serving.
    """
    steps: list[Step] = []
    steps += _plan_role(desired, current)
    steps += _plan_logs(desired, current)
    layer_arn = current.layer_arn
    if desired.layer_name and layer_arn is None:
        steps.append(PublishLayer(desired))
    function_steps, url_steps = place_url_steps(
        desired,
        current.url,
        _plan_function(desired, current, layer_arn),
        plan_url(desired, current.url),
    )
    steps += function_steps
    steps += plan_concurrency(desired, current.concurrency)
    api_id = current.api.api_id if current.api else None
    domain_steps = plan_domain(desired, current.domain, current.domains, api_id)
    # A domain goes before its API does (a mapping holds on to the API).
    steps += [step for step in domain_steps if isinstance(step, RemoveDomain)]
    steps += _plan_http(desired, current, url_steps)
    steps += [step for step in domain_steps if not isinstance(step, RemoveDomain)]
    steps += plan_event_invoke(desired, current.event_invoke)
    steps += _plan_schedules(desired, current)
    steps += _plan_mappings(desired, current)
    steps += plan_consumers(desired, current.consumers or CurrentConsumers())
    steps += _plan_revocations(desired, current)
    if desired.role_name is None and current.role is not None:
        steps.append(DeleteOwnRole(desired, str(current.role["RoleName"])))
    return _with_uploads(desired, steps)


def _with_uploads(desired: DesiredStage, steps: list[Step]) -> list[Step]:
    """``steps`` with an S3 upload before each step that sends a package over the limit."""
    staged: list[Step] = []
    for step in steps:
        key = None
        if isinstance(step, PublishLayer):
            key, path = desired.layer_key, desired.layer_zip
        elif isinstance(step, (CreateFunction, UpdateCode)):
            key, path = desired.code_key, desired.code_zip
        if key is not None and path is not None:
            staged.append(UploadToS3(desired, key, path))
        staged.append(step)
    return staged


def _plan_role(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    if desired.role_name is None:
        return []
    if current.role is None:
        return [CreateRole(desired), PutRolePolicy(desired)]
    steps: list[Step] = []
    if canonical(current.role.get("AssumeRolePolicyDocument")) != desired.trust:
        steps.append(UpdateTrust(desired))
    if current.role_policy is None or canonical(current.role_policy) != desired.policy:
        steps.append(PutRolePolicy(desired))
    return steps


def _plan_logs(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    if current.log_group is None:
        steps: list[Step] = [CreateLogGroup(desired)]
        if desired.log_retention_days is not None:
            steps.append(SetRetention(desired))
        return steps
    if current.log_group.get("retentionInDays") != desired.log_retention_days:
        return [SetRetention(desired)]
    return []


def _plan_function(
    desired: DesiredStage, current: CurrentStage, layer_arn: str | None
) -> list[Step]:
    configuration = desired.configuration(layer_arn)
    steps = plan_latest(desired, current.function, configuration)
    if current.function is not None:
        missing = {k: v for k, v in desired.tags.items() if current.tags.get(k) != v}
        if missing:
            steps.append(TagFunction(desired, tuple(sorted(missing))))
    serving = (current.alias or {}).get("FunctionVersion")
    steps += with_init_check(
        plan_alias(desired, current.alias, current.aliased, configuration),
        serving,
        desired.check,
    )
    return steps


def _plan_http(desired: DesiredStage, current: CurrentStage, url_steps: list[Step]) -> list[Step]:
    steps = list(url_steps)
    have = {str(statement.get("Sid")): statement for statement in current.statements}
    wanted = {grant.sid: grant for grant in desired.grants()}
    for sid, grant in wanted.items():
        if sid not in have or not grant.matches(have[sid]):
            if sid in have:
                steps.append(RevokePermission(desired, sid))
            steps.append(GrantPermission(desired, grant))
    api = current.api
    if desired.http_api:
        statement = have.get(HTTP_API_SID)
        in_step = (
            api is not None
            and api.integration_uri == desired.alias_arn
            and api.payload_version == "2.0"
            and api.route_target == f"integrations/{api.integration_id}"
            and api.has_default_stage
            and statement is not None
            and api_grant(desired, api.api_id).matches(statement)
        )
        if not in_step:
            steps.append(EnsureHttpApi(desired, api, HTTP_API_SID in have))
    elif api is not None:
        steps.append(RemoveHttpApi(desired, api.api_id))
    return steps


def _plan_revocations(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    # Last: a rule or URL stops calling the alias before its permission goes.
    wanted = {grant.sid for grant in desired.grants()}
    if desired.http_api:
        wanted.add(HTTP_API_SID)
    return [
        RevokePermission(desired, sid)
        for sid in sorted(str(statement.get("Sid")) for statement in current.statements)
        if sid.startswith("strum-") and sid not in wanted
    ]


def _plan_schedules(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    steps: list[Step] = []
    have = {rule.rule: (rule, targets) for rule, targets in current.rules}
    for schedule in desired.schedules:
        found = have.get(schedule.rule)
        if found is None:
            steps.append(PutSchedule(desired, schedule))
            continue
        rule, targets = found
        if rule != schedule or targets != (desired.alias_arn,):
            steps.append(PutSchedule(desired, schedule))
    wanted = {schedule.rule for schedule in desired.schedules}
    steps += [RemoveSchedule(desired, name) for name in sorted(have) if name not in wanted]
    return steps


def _plan_mappings(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    steps: list[Step] = []
    # current.mappings are those listed by the alias's ARN, so all of them target the alias.
    have = {str(m.get("EventSourceArn")): m for m in current.mappings}
    for mapping in desired.mappings:
        found = have.pop(mapping.source_arn, None)
        if found is None:
            steps.append(CreateMapping(desired, mapping))
            continue
        now = {
            "Enabled": found.get("State") not in ("Disabled", "Disabling"),
            "FunctionResponseTypes": list(found.get("FunctionResponseTypes") or []),
            "BatchSize": found.get("BatchSize"),
            "MaximumBatchingWindowInSeconds": found.get("MaximumBatchingWindowInSeconds"),
        }
        if any(now[key] != value for key, value in mapping.settings().items()):
            steps.append(UpdateMapping(desired, str(found["UUID"]), mapping))
    for arn, found in sorted(have.items()):
        steps.append(DeleteMapping(desired, str(found["UUID"]), arn))
    return steps
