"""The AWS target's data model: a stage as the config wants it and as AWS has it.

``DesiredStage`` (built by ``strum.aws.desired``) and ``CurrentStage`` (read by
``strum.aws.read``) with their parts - schedules, event source mappings, pushed consumers,
the custom domain, resource-policy grants - and the naming rules every module shares. Pure
data: planning (``strum.aws.plan``), execution and the template read it; nothing here does I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.deploy.steps import durable_config

ROLE_POLICY_NAME = "strum-execution"
URL_SIDS = ("strum-url", "strum-url-invoke")
HTTP_API_SID = "strum-http-api"
PENDING_LAYER = "(the layer version this deploy publishes)"

PUSHED_SOURCES = ("sns", "s3", "eventbridge")
SID_PREFIXES = {"sns": "strum-sns-", "s3": "strum-s3-", "eventbridge": "strum-event-"}
PRINCIPALS = {
    "sns": "sns.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "eventbridge": "events.amazonaws.com",
}


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
    consumers: tuple[Consumer, ...] = ()  # SNS, S3, EventBridge: see strum.aws.plan.consumers
    log_retention_days: int | None = None
    # (retries, max age s, on-success ARN, on-failure ARN); None: AWS's defaults.
    event_invoke: tuple[int, int, str | None, str | None] | None = None
    # FileSystemConfigs: (EFS access point ARN, mount path); VpcConfig: (subnets, groups).
    file_systems: tuple[tuple[str, str], ...] = ()
    vpc: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    # A path the new version must answer a GET to under 500 before the alias moves.
    check: str | None = None
    # The project the package came from: an init error's message points into it.
    project_dir: Path | None = field(default=None, compare=False)
    # DurableConfig: (ExecutionTimeout seconds, RetentionPeriodInDays); None: not durable.
    durable: tuple[int, int] | None = None
    snap_start: bool = False  # SnapStart: {ApplyOn: PublishedVersions}
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def alias(self) -> str:
        """The stage's alias: the stage name."""
        return self.stage

    @property
    def name(self) -> str:
        """The function's name (``strum.deploy.steps.FunctionSpec`` reads it as ``name``)."""
        return self.function

    def code_summary(self) -> str:
        return f"{self.code_zip.stat().st_size / 1e3:.0f} KB"

    def url_summary(self) -> str:
        return f"the public function URL of {self.function}:{self.alias}"

    def event_invoke_summary(self) -> str:
        retries, max_age, _, _ = self.event_invoke or (2, 21600, None, None)
        return f"{retries} retries, max age {max_age} s"

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
            "FileSystemConfigs": [
                {"Arn": arn, "LocalMountPath": path} for arn, path in self.file_systems
            ],
            "SnapStart": {"ApplyOn": "PublishedVersions" if self.snap_start else "None"},
            # Empty lists take a function out of its VPC (how Lambda detaches one).
            "VpcConfig": {
                "SubnetIds": list(self.vpc[0] if self.vpc else ()),
                "SecurityGroupIds": list(self.vpc[1] if self.vpc else ()),
            },
            **durable_config(self.durable),
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


@dataclass(frozen=True)
class Consumer:
    """One pushed consumer: where its events come from and which of them."""

    name: str
    source: str  # sns | s3 | eventbridge
    arn: str | None  # topic, bucket or (the user's) rule; None: strum's rule with ``pattern``
    s3_events: tuple[str, ...] = ()
    prefix: str | None = None
    suffix: str | None = None
    pattern: str | None = None  # canonical JSON
    rule: str | None = None  # strum's rule name (eventbridge with a pattern)

    @property
    def sid(self) -> str:
        return SID_PREFIXES[self.source] + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)

    @property
    def bucket(self) -> str:
        return str(self.arn).split(":::", 1)[-1]


@dataclass(frozen=True)
class CurrentConsumers:
    """What the sources have for the stage now."""

    subscribed: tuple[str, ...] = ()  # topics with a lambda subscription of the alias
    notifications: tuple[tuple[str, str], ...] = ()  # (bucket, canonical JSON configuration)
    rules: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # strum's: (name, pattern, targets)
    targeted: tuple[str, ...] = ()  # the user's rule ARNs that already carry strum's target
    stale: tuple[tuple[str, str], ...] = ()  # (source, source ARN) no longer in the config


@dataclass(frozen=True)
class Record:
    """One DNS record as strum compares it: a name, a type and either values or an alias."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    alias: tuple[str, str] | None = None  # (DNS name, hosted zone id) of an alias target

    def record_set(self) -> dict[str, object]:
        """The Route 53 ``ResourceRecordSet`` for this record."""
        if self.alias is not None:
            return {
                "Name": self.name,
                "Type": self.type,
                "AliasTarget": {
                    "DNSName": self.alias[0],
                    "HostedZoneId": self.alias[1],
                    "EvaluateTargetHealth": False,
                },
            }
        return {
            "Name": self.name,
            "Type": self.type,
            "TTL": 300,
            "ResourceRecords": [{"Value": value} for value in self.values],
        }


def same_name(a: str, b: str) -> bool:
    """Whether two DNS names are the same (case and the trailing dot aside)."""
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@dataclass(frozen=True)
class CurrentDomain:
    """The stage's custom domain as AWS has it; ``None`` for what does not exist.

    ``certificate_arn`` is the certificate the deploy will use: the domain name's own when
    it is issued, else an issued one for exactly this name, else one strum requested earlier
    and that is still being validated (``certificate_status`` says which).
    """

    domain: str
    zone_id: str
    zone_name: str
    certificate_arn: str | None = None
    certificate_status: str | None = None
    certificate_owned: bool = False
    validation: Record | None = None  # the CNAME ACM asks for (once ACM has said it)
    validation_in_zone: bool = False
    domain_certificate: str | None = None  # the certificate the API Gateway domain uses
    domain_exists: bool = False
    target: tuple[str, str] | None = None  # the domain's regional (DNS name, zone id)
    mappings: tuple[tuple[str, str, str, str], ...] = ()  # (id, api id, stage, key)
    record: Record | None = None  # what the zone has at the name now (A, AAAA or CNAME)


@dataclass(frozen=True)
class Grant:
    """One statement of the alias's resource policy: who may invoke it."""

    sid: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None  # S3: a bucket ARN names no account
    url_auth: str | None = None
    via_url: bool = False

    def params(self) -> dict[str, Any]:
        """The AddPermission parameters for this statement."""
        params: dict[str, Any] = {
            "StatementId": self.sid,
            "Action": self.action,
            "Principal": self.principal,
        }
        if self.source_arn:
            params["SourceArn"] = self.source_arn
        if self.source_account:
            params["SourceAccount"] = self.source_account
        if self.url_auth:
            params["FunctionUrlAuthType"] = self.url_auth
        if self.via_url:
            params["InvokedViaFunctionUrl"] = True
        return params

    def matches(self, statement: dict[str, Any]) -> bool:
        """Whether an existing policy statement grants what this one does."""
        action = statement.get("Action")
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("Service") or principal.get("AWS")
        if action != self.action or principal != self.principal:
            return False
        if self.source_arn is None:
            return True
        return self.source_arn in condition_values(statement)


def condition_values(statement: dict[str, Any]) -> list[str]:
    """The source ARNs a policy statement names, wherever AWS (or moto) put them."""
    values: list[str] = []
    # AWS reports SourceArn as a condition; moto keeps it as a top-level field.
    if statement.get("SourceArn"):
        values.append(str(statement["SourceArn"]))
    for tests in (statement.get("Condition") or {}).values():
        for value in tests.values():
            values += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return values


def api_grant(desired: DesiredStage, api_id: str) -> Grant:
    """API Gateway's permission to invoke the alias, from this API only."""
    source = f"arn:{desired.partition}:execute-api:{desired.region}:{desired.account}:{api_id}/*"
    return Grant(HTTP_API_SID, "lambda:InvokeFunction", "apigateway.amazonaws.com", source)


def owned(tags: dict[str, str], project: str, stage: str) -> bool:
    """Whether ``tags`` mark a resource as this stage's."""
    return tags.get("strum:project") == project and tags.get("strum:stage") == stage


def role_name(function: str) -> str:
    """The execution role strum creates for a function (IAM allows 64 characters)."""
    return f"{function}-role"
