"""AWS deploy planning: the stage as the config wants it vs as AWS has it -> steps.

Pure: no I/O, no boto3. ``plan_deploy`` returns frozen steps in the order they must run
(``strum.aws.execute`` carries them out); ``[]`` means the stage is already in step, and a
deploy then makes no write call at all. The desired side (``DesiredStage``) is built by
``strum.aws.deploy`` from the config and the built package, the current side
(``CurrentStage``) by ``strum.aws.state`` from read-only calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.aws.consumers import PRINCIPALS, Consumer, CurrentConsumers, plan_consumers
from strum.aws.domain import CurrentDomain, RemoveDomain, plan_domain
from strum.aws.steps import (
    CreateFunction,
    CreateLogGroup,
    CreateMapping,
    CreateRole,
    DeleteMapping,
    DeleteOwnRole,
    EnsureHttpApi,
    EnsureUrl,
    Grant,
    GrantPermission,
    PointAlias,
    PublishLayer,
    PublishVersion,
    PutRolePolicy,
    PutSchedule,
    RemoveHttpApi,
    RemoveSchedule,
    RemoveUrl,
    RevokePermission,
    SetConcurrency,
    SetEventInvokeConfig,
    SetRetention,
    StagePackage,
    TagFunction,
    UpdateCode,
    UpdateConfiguration,
    UpdateMapping,
    UpdateTrust,
)
from strum.deploy.plan import Step, changed_fields

ROLE_POLICY_NAME = "strum-execution"
URL_SIDS = ("strum-url", "strum-url-invoke")
HTTP_API_SID = "strum-http-api"
PENDING_LAYER = "(the layer version this deploy publishes)"


@dataclass(frozen=True)
class Schedule:
    """One EventBridge rule invoking the stage's alias."""

    schedule: str  # the [tool.strum.schedules] name
    rule: str  # "<function>-<schedule>": the router matches the "-<schedule>" suffix
    expression: str
    enabled: bool


@dataclass(frozen=True)
class Mapping:
    """One event source mapping (SQS, Kinesis, DynamoDB streams) to the stage's alias."""

    name: str
    source_arn: str
    enabled: bool = True
    batch_size: int | None = None
    batch_window: int | None = None
    starting_position: str | None = None
    report_failures: bool = True

    def settings(self) -> dict[str, Any]:
        """The mapping's updatable settings as Lambda reports them."""
        wanted: dict[str, Any] = {
            "Enabled": self.enabled,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if self.report_failures else [],
        }
        if self.batch_size is not None:
            wanted["BatchSize"] = self.batch_size
        if self.batch_window is not None:
            wanted["MaximumBatchingWindowInSeconds"] = self.batch_window
        return wanted


@dataclass(frozen=True)
class DesiredStage:
    """Everything one AWS stage should be, from the config and the built packages."""

    project: str
    stage: str
    function: str
    region: str
    account: str
    partition: str
    code_zip: Path
    code_sha256: str  # base64, as Lambda reports CodeSha256
    runtime: str
    architecture: str
    role_arn: str
    role_name: str | None  # None: the user's role_arn, strum creates no role
    trust: str = ""  # canonical JSON documents (see ``canonical``)
    policy: str = ""
    layer_name: str | None = None
    layer_marker: str = ""  # the layer version's description: carries the content hash
    layer_zip: Path | None = None
    handler: str = "strum.runtime.entry.handler"
    memory: int = 512
    timeout: int = 30
    ephemeral_storage: int = 512
    # Out of repr: a step printed or logged with %r must not carry the secrets in it.
    environment: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    description: str = ""
    reserved_concurrency: int | None = None
    url: bool = True
    invoke_mode: str = "BUFFERED"
    http_api: bool = False
    domain: str | None = None  # a custom domain on the HTTP API
    # Packages over Lambda's 50 MB direct upload go through S3: the bucket, whether strum
    # makes it (else the config's ``bucket``), and the content-hash keys of what goes there.
    bucket: str | None = None
    bucket_owned: bool = False
    code_key: str | None = None
    layer_key: str | None = None
    schedules: tuple[Schedule, ...] = ()
    mappings: tuple[Mapping, ...] = ()
    consumers: tuple[Consumer, ...] = ()  # SNS, S3 and EventBridge (see strum.aws.consumers)
    log_retention_days: int | None = None
    # (retries, max age s, on-success ARN, on-failure ARN); None: AWS's defaults.
    event_invoke: tuple[int, int, str | None, str | None] | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def alias(self) -> str:
        return self.stage

    @property
    def function_arn(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.function}"

    @property
    def alias_arn(self) -> str:
        return f"{self.function_arn}:{self.alias}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def tags(self) -> dict[str, str]:
        """The tags on everything a stage's deploys create; status and undeploy use them."""
        return {"strum:project": self.project, "strum:stage": self.stage}

    def rule_arn(self, rule: str) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:rule/{rule}"

    def configuration(self, layer_arn: str | None) -> dict[str, Any]:
        """The Lambda configuration fields strum manages (architecture aside: see plan)."""
        layers = [layer_arn or PENDING_LAYER] if self.layer_name else []
        return {
            "Role": self.role_arn,
            "Runtime": self.runtime,
            "Handler": self.handler,
            "MemorySize": self.memory,
            "Timeout": self.timeout,
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "Environment": {"Variables": dict(self.environment)},
            "Description": self.description,
            "Layers": layers,
        }

    def grants(self) -> tuple[Grant, ...]:
        """The resource-policy statements on the alias (the HTTP API's aside: see plan)."""
        grants = []
        if self.url:
            grants += [
                Grant(URL_SIDS[0], "lambda:InvokeFunctionUrl", "*", url_auth="NONE"),
                # Since late 2025 a public function URL also needs InvokeFunction, limited
                # to calls made through the URL.
                Grant(URL_SIDS[1], "lambda:InvokeFunction", "*", via_url=True),
            ]
        for schedule in self.schedules:
            grants.append(
                Grant(
                    f"strum-rule-{schedule.schedule}",
                    "lambda:InvokeFunction",
                    "events.amazonaws.com",
                    source_arn=self.rule_arn(schedule.rule),
                )
            )
        for consumer in self.consumers:
            source = self.rule_arn(consumer.rule) if consumer.rule else str(consumer.arn)
            account = self.account if consumer.source == "s3" else None
            principal = PRINCIPALS[consumer.source]
            grants.append(Grant(consumer.sid, "lambda:InvokeFunction", principal, source, account))
        return tuple(grants)


@dataclass(frozen=True)
class CurrentApi:
    """The stage's HTTP API as it is: its parts that strum manages."""

    api_id: str
    endpoint: str
    integration_id: str | None = None
    integration_uri: str | None = None
    payload_version: str | None = None
    route_id: str | None = None
    route_target: str | None = None
    has_default_stage: bool = False


@dataclass(frozen=True)
class CurrentStage:
    """What AWS has for the stage now; ``None`` / empty for what does not exist."""

    role: dict[str, Any] | None = None
    role_policy: dict[str, Any] | None = None
    layer_arn: str | None = None
    function: dict[str, Any] | None = None  # $LATEST's configuration
    tags: dict[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    alias: dict[str, Any] | None = None
    aliased: dict[str, Any] | None = None  # the configuration of the alias's version
    url: dict[str, Any] | None = None
    statements: tuple[dict[str, Any], ...] = ()
    event_invoke: tuple[int, int, str | None, str | None] | None = None
    rules: tuple[tuple[Schedule, tuple[str, ...]], ...] = ()  # (rule, target ARNs)
    mappings: tuple[dict[str, Any], ...] = ()
    api: CurrentApi | None = None
    log_group: dict[str, Any] | None = None
    consumers: CurrentConsumers | None = None
    domain: CurrentDomain | None = None  # the stage's custom domain, when it has one
    domains: tuple[str, ...] = ()  # the API Gateway domain names strum made for the stage


def canonical(document: Any) -> str:
    """A JSON document as one comparable string (key order and spacing normalised)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def configuration_changes(
    current: dict[str, Any] | None, desired: DesiredStage, layer_arn: str | None
) -> tuple[str, ...]:
    """Names of the managed configuration fields that differ."""
    return changed_fields(desired.configuration(layer_arn), current)


def _architecture(configuration: dict[str, Any]) -> str:
    return str((configuration.get("Architectures") or ["x86_64"])[0])


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
    steps += _plan_function(desired, current, layer_arn)
    if current.concurrency != desired.reserved_concurrency:
        steps.append(SetConcurrency(desired))
    api_id = current.api.api_id if current.api else None
    domain_steps = plan_domain(desired, current.domain, current.domains, api_id)
    # A domain goes before its API does (a mapping holds on to the API).
    steps += [step for step in domain_steps if isinstance(step, RemoveDomain)]
    steps += _plan_http(desired, current)
    steps += [step for step in domain_steps if not isinstance(step, RemoveDomain)]
    if current.event_invoke != desired.event_invoke:
        steps.append(SetEventInvokeConfig(desired))
    steps += _plan_schedules(desired, current)
    steps += _plan_mappings(desired, current)
    steps += plan_consumers(desired, current.consumers or CurrentConsumers())
    steps += _plan_revocations(desired, current)
    if desired.role_name is None and current.role is not None:
        steps.append(DeleteOwnRole(desired, str(current.role["RoleName"])))
    return _with_staging(desired, steps)


def _with_staging(desired: DesiredStage, steps: list[Step]) -> list[Step]:
    """``steps`` with an S3 upload before each step that sends a package over the limit."""
    staged: list[Step] = []
    for step in steps:
        key = None
        if isinstance(step, PublishLayer):
            key, path = desired.layer_key, desired.layer_zip
        elif isinstance(step, (CreateFunction, UpdateCode)):
            key, path = desired.code_key, desired.code_zip
        if key is not None and path is not None:
            staged.append(StagePackage(desired, key, path))
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
    steps: list[Step] = []
    latest = current.function
    if latest is None:
        steps.append(CreateFunction(desired))
    else:
        moved = _architecture(latest) != desired.architecture
        if latest.get("CodeSha256") != desired.code_sha256 or moved:
            steps.append(UpdateCode(desired, moved))
        changes = configuration_changes(latest, desired, layer_arn)
        if changes:
            steps.append(UpdateConfiguration(desired, changes))
        missing = {k: v for k, v in desired.tags.items() if current.tags.get(k) != v}
        if missing:
            steps.append(TagFunction(desired, tuple(sorted(missing))))
    aliased = current.aliased
    serving_ok = (
        current.alias is not None
        and aliased is not None
        and aliased.get("CodeSha256") == desired.code_sha256
        and _architecture(aliased) == desired.architecture
        and not configuration_changes(aliased, desired, layer_arn)
    )
    if not serving_ok:
        steps.append(PublishVersion(desired))
        steps.append(PointAlias(desired, exists=current.alias is not None))
    return steps


def _plan_http(desired: DesiredStage, current: CurrentStage) -> list[Step]:
    steps: list[Step] = []
    if desired.url:
        mode = str((current.url or {}).get("InvokeMode") or "BUFFERED").upper()
        if current.url is None or mode != desired.invoke_mode:
            steps.append(EnsureUrl(desired, exists=current.url is not None))
    elif current.url is not None:
        steps.append(RemoveUrl(desired))
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


def api_grant(desired: DesiredStage, api_id: str) -> Grant:
    """API Gateway's permission to invoke the alias, from this API only."""
    source = f"arn:{desired.partition}:execute-api:{desired.region}:{desired.account}:{api_id}/*"
    return Grant(HTTP_API_SID, "lambda:InvokeFunction", "apigateway.amazonaws.com", source)


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
