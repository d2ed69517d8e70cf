"""A stage as a CloudFormation template: what ``strum deploy`` would create, for pipelines.

Pure: no boto3, no I/O. ``stage_template`` turns the same ``DesiredStage`` a deploy plans
from into a template dict, ``render`` into its JSON text (sorted keys, stable logical ids
derived from the names the deploy uses, so the template diffs cleanly in review).

The desired stage is built without AWS credentials: where a deploy would ask STS for the
account, ``PSEUDO`` stands in for the account, region and partition, and every string
carrying one becomes an ``Fn::Sub`` on CloudFormation's pseudo parameters
(``${AWS::AccountId}``...). Code comes from S3: the ``CodeBucket`` / ``CodeKey`` /
``LayerKey`` parameters. Secret-looking variables of ``env`` and the host variables
``permissions.env`` passes through become ``NoEcho`` parameters instead of being written
into the template.

What differs from a deploy, on purpose: CloudFormation names permission statements itself
(not ``strum-url``...), rules carry no tags (``AWS::Events::Rule`` cannot tag a rule), a
custom domain's hosted zone is the ``HostedZoneId`` parameter (``strum.aws.template.domain``),
an S3 consumer's notification and a target on the user's own EventBridge rule are left to do
after the stack exists (a stack cannot change resources it does not own; the template's
``Metadata`` says what, see ``strum.aws.template.consumers``), and a stage deployed once with
``strum deploy`` cannot be adopted by a stack (its named resources exist): deploy a stage
one way or the other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from strum.aws.model import ROLE_POLICY_NAME, DesiredStage, Grant, api_grant
from strum.aws.template.cfn import logical_id, ref_in, resource
from strum.aws.template.consumers import consumer_resources, outside_the_stack
from strum.aws.template.domain import domain_parameters, domain_resources

TEMPLATE_VERSION = "2010-09-09"
# No ":" inside: the code that builds ARNs also splits them (a bare async destination
# becomes an ARN whose service is read back). "." stands for "::".
ACCOUNT = "\0AWS.AccountId\0"
REGION = "\0AWS.Region\0"
PARTITION = "\0AWS.Partition\0"
PSEUDO = {"account": ACCOUNT, "region": REGION, "partition": PARTITION}


def stage_template(
    desired: DesiredStage,
    *,
    code_key: str,
    layer_key: str | None,
    parameters: Iterable[str] = (),
) -> dict[str, Any]:
    """The stage as a CloudFormation template.

    ``desired`` is built with ``PSEUDO`` for account, region and partition. ``code_key`` and
    ``layer_key`` are the defaults of the S3 key parameters; the environment variables named
    in ``parameters`` become ``NoEcho`` template parameters (``env_parameters``).
    """
    d = desired
    resources: dict[str, Any] = {}
    params: dict[str, Any] = {
        "CodeBucket": {"Type": "String", "Description": "The S3 bucket holding the zips"},
        "CodeKey": {
            "Type": "String",
            "Default": code_key,
            "Description": "The S3 key of the function's code zip",
        },
    }
    env_params = env_parameters(d.environment, parameters)
    for name, logical in env_params.items():
        params[logical] = {
            "Type": "String",
            "NoEcho": True,
            "Description": f"The function's {name} (kept out of the template)",
        }
    tags = [{"Key": key, "Value": value} for key, value in sorted(d.tags.items())]
    alias = {"Ref": "Alias"}

    if d.role_name is not None:
        resources["ExecutionRole"] = resource(
            "AWS::IAM::Role",
            RoleName=d.role_name,
            AssumeRolePolicyDocument=json.loads(d.trust),
            Description=f"strum: {d.function} (Lambda)",
            Policies=[{"PolicyName": ROLE_POLICY_NAME, "PolicyDocument": json.loads(d.policy)}],
            Tags=tags,
        )
    resources["LogGroup"] = resource(
        "AWS::Logs::LogGroup",
        LogGroupName=d.log_group,
        RetentionInDays=d.log_retention_days,
        Tags=tags,
    )
    layers = []
    if d.layer_name and layer_key:
        params["LayerKey"] = {
            "Type": "String",
            "Default": layer_key,
            "Description": "The S3 key of the dependency layer's zip",
        }
        resources["DependencyLayer"] = resource(
            "AWS::Lambda::LayerVersion",
            LayerName=d.layer_name,
            Description=d.layer_marker,
            Content={"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "LayerKey"}},
            CompatibleRuntimes=[d.runtime],
            CompatibleArchitectures=[d.architecture],
        )
        layers = [{"Ref": "DependencyLayer"}]
    variables = {
        name: {"Ref": env_params[name]} if name in env_params else value
        for name, value in d.environment
    }
    function = resource(
        "AWS::Lambda::Function",
        FunctionName=d.function,
        Role={"Fn::GetAtt": ["ExecutionRole", "Arn"]} if d.role_name else d.role_arn,
        Runtime=d.runtime,
        Handler=d.handler,
        Architectures=[d.architecture],
        MemorySize=d.memory,
        Timeout=d.timeout,
        EphemeralStorage={"Size": d.ephemeral_storage},
        Environment={"Variables": variables} if variables else None,
        Description=d.description,
        Layers=layers or None,
        ReservedConcurrentExecutions=d.reserved_concurrency,
        FileSystemConfigs=[{"Arn": arn, "LocalMountPath": path} for arn, path in d.file_systems]
        or None,
        VpcConfig={"SubnetIds": list(d.vpc[0]), "SecurityGroupIds": list(d.vpc[1])}
        if d.vpc
        else None,
        DurableConfig={"ExecutionTimeout": d.durable[0], "RetentionPeriodInDays": d.durable[1]}
        if d.durable
        else None,
        SnapStart={"ApplyOn": "PublishedVersions"} if d.snap_start else None,
        Code={"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
        Tags=tags,
    )
    # The log group first: Lambda would otherwise create it, outside the stack, on the
    # first invocation.
    function["DependsOn"] = ["LogGroup"]
    resources["Function"] = function
    # A version is immutable, so it is a new resource whenever what it freezes changes -
    # the code, the layer, the configuration - as a deploy publishes one exactly then.
    frozen = json.dumps(
        [d.code_sha256, d.layer_marker, function["Properties"]], sort_keys=True, default=str
    )
    version = "Version" + hashlib.sha256(frozen.encode()).hexdigest()[:12]
    resources[version] = resource(
        "AWS::Lambda::Version",
        FunctionName={"Ref": "Function"},
        Description=d.description,
        # CloudFormation refuses to publish code other than the zip this template was made for.
        CodeSha256=d.code_sha256,
    )
    resources["Alias"] = resource(
        "AWS::Lambda::Alias",
        Name=d.alias,
        FunctionName={"Ref": "Function"},
        FunctionVersion={"Fn::GetAtt": [version, "Version"]},
    )
    outputs: dict[str, Any] = {
        "AliasArn": {"Description": "The ARN of the stage's alias", "Value": alias}
    }
    if d.url:
        resources["FunctionUrl"] = resource(
            "AWS::Lambda::Url",
            TargetFunctionArn={"Ref": "Function"},
            Qualifier=d.alias,
            AuthType="NONE",
            InvokeMode=d.invoke_mode,
        )
        resources["FunctionUrl"]["DependsOn"] = ["Alias"]
        outputs["Url"] = {
            "Description": "The stage's public URL",
            "Value": {"Fn::GetAtt": ["FunctionUrl", "FunctionUrl"]},
        }
    grants = list(d.grants())
    if d.http_api:
        resources.update(_http_api(d, tags))
        grants.append(api_grant(d, ref_in("HttpApi")))
        outputs["Url"] = {
            "Description": "The stage's HTTP API endpoint",
            "Value": {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]},
        }
        params.update(domain_parameters(d))
        resources.update(domain_resources(d, tags))
        if d.domain:
            outputs["DomainUrl"] = {
                "Description": "The stage's custom domain",
                "Value": f"https://{d.domain}",
            }
    for grant in grants:
        resources[logical_id(grant.sid, "Permission", resources)] = _permission(grant)
    if d.event_invoke is not None:
        retries, max_age, on_success, on_failure = d.event_invoke
        destinations = {
            key: {"Destination": arn}
            for key, arn in (("OnSuccess", on_success), ("OnFailure", on_failure))
            if arn
        }
        resources["EventInvokeConfig"] = resource(
            "AWS::Lambda::EventInvokeConfig",
            FunctionName={"Ref": "Function"},
            Qualifier=d.alias,
            MaximumRetryAttempts=retries,
            MaximumEventAgeInSeconds=max_age,
            DestinationConfig=destinations or None,
        )
        resources["EventInvokeConfig"]["DependsOn"] = ["Alias"]
    for schedule in d.schedules:
        resources[logical_id(f"schedule-{schedule.schedule}", "", resources)] = resource(
            "AWS::Events::Rule",
            Name=schedule.rule,
            ScheduleExpression=schedule.expression,
            State="ENABLED" if schedule.enabled else "DISABLED",
            Description=f"strum: {d.function} {schedule.schedule}",
            Targets=[{"Id": "strum", "Arn": alias}],
        )
    for mapping in d.mappings:
        settings = mapping.settings()
        if not settings["FunctionResponseTypes"]:
            del settings["FunctionResponseTypes"]
        resources[logical_id(f"consumer-{mapping.name}", "", resources)] = resource(
            "AWS::Lambda::EventSourceMapping",
            FunctionName=alias,
            EventSourceArn=mapping.source_arn,
            StartingPosition=mapping.starting_position,
            Tags=tags,
            **settings,
        )
    resources.update(consumer_resources(d, resources))
    template = {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": f"strum: {d.project} ({d.stage}) - {d.function} on AWS Lambda",
        "Parameters": params,
        "Resources": resources,
        "Outputs": outputs,
    }
    manual = outside_the_stack(d)
    if manual:
        template["Metadata"] = {"strum:outside-the-stack": manual}
    return dict(_intrinsics(template))


def render(template: dict[str, Any]) -> str:
    """The template as JSON text: sorted keys, two-space indent, a final newline."""
    return json.dumps(template, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def env_parameters(environment: Iterable[tuple[str, str]], names: Iterable[str]) -> dict[str, str]:
    """``{variable: parameter logical id}`` for the variables kept out of the template."""
    wanted = set(names)
    used: dict[str, Any] = {}
    found = {}
    for name, _ in sorted(environment):
        if name in wanted:
            found[name] = logical_id(f"env-{name}", "", used)
            used[found[name]] = True
    return found


def _http_api(d: DesiredStage, tags: list[dict[str, str]]) -> dict[str, Any]:
    # What ``Executor._ensure_api`` makes: one API, a Lambda proxy integration on the
    # alias (payload 2.0), the $default route to it and an auto-deployed $default stage.
    tag_map = {tag["Key"]: tag["Value"] for tag in tags}
    return {
        "HttpApi": resource(
            "AWS::ApiGatewayV2::Api",
            Name=d.function,
            ProtocolType="HTTP",
            Description=f"strum: {d.project} ({d.stage})",
            Tags=tag_map,
        ),
        "HttpApiIntegration": resource(
            "AWS::ApiGatewayV2::Integration",
            ApiId={"Ref": "HttpApi"},
            IntegrationType="AWS_PROXY",
            IntegrationUri={"Ref": "Alias"},
            PayloadFormatVersion="2.0",
        ),
        "HttpApiRoute": resource(
            "AWS::ApiGatewayV2::Route",
            ApiId={"Ref": "HttpApi"},
            RouteKey="$default",
            Target=f"integrations/{ref_in('HttpApiIntegration')}",
        ),
        "HttpApiStage": resource(
            "AWS::ApiGatewayV2::Stage",
            ApiId={"Ref": "HttpApi"},
            StageName="$default",
            AutoDeploy=True,
            Tags=tag_map,
        ),
    }


def _permission(grant: Grant) -> dict[str, Any]:
    # The same statement ``GrantPermission`` adds, on the alias; CloudFormation picks the Sid.
    params = grant.params()
    del params["StatementId"]
    return resource("AWS::Lambda::Permission", FunctionName={"Ref": "Alias"}, **params)


def _intrinsics(node: Any) -> Any:
    """Strings with placeholders (``PSEUDO``, ``ref_in``) as ``Fn::Sub``; the rest as is."""
    if isinstance(node, dict):
        return {key: _intrinsics(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_intrinsics(value) for value in node]
    if isinstance(node, str) and "\0" in node:
        # A literal "${" (an IAM policy variable such as ${aws:username}) must stay literal
        # inside Fn::Sub: "${!" is its escape.
        escaped = node.replace("${", "${!")
        return {"Fn::Sub": re.sub("\0([^\0]+)\0", _placeholder, escaped)}
    return node


def _placeholder(match: re.Match[str]) -> str:
    return "${" + match.group(1).replace(".", "::") + "}"
