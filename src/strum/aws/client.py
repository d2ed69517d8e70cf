"""The one boto3 wrapper strum uses: only the calls the AWS target makes, strum's errors.

``AwsClient`` opens a boto3 session with the standard credential chain (the stage's
``profile``, then the environment, SSO, instance roles...) and boto3's own endpoint settings
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``), so nothing here invents settings of
its own. Every call is recorded (``calls``, ``writes``, ``bytes_sent``) so deploys can be
measured and a no-op deploy proven to write nothing. Getters return ``None`` for a resource
that does not exist instead of raising.

boto3 is imported only when a client is first made: ``strum --help`` never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from strum.aws.errors import AwsError, translate

_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Filter")
_NOT_FOUND = frozenset(
    {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "NoSuchEntityException"}
)


@dataclass
class CallLog:
    """The AWS calls made: ``(service, operation)`` in order, and request bytes sent."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def writes(self) -> list[tuple[str, str]]:
        """The calls that change something (anything but Get/List/Describe/Head/Filter)."""
        return [call for call in self.calls if not call[1].startswith(_READ_PREFIXES)]


class AwsClient:
    """Typed access to Lambda, IAM, EventBridge, CloudWatch Logs, API Gateway v2 and STS."""

    def __init__(self, region: str | None, profile: str | None = None) -> None:
        self.region = region
        self.profile = profile
        self.log = CallLog()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    # -- plumbing -------------------------------------------------------------------------

    def _get_session(self) -> Any:
        if self._session is None:
            try:
                import boto3

                self._session = boto3.session.Session(
                    profile_name=self.profile, region_name=self.region
                )
            except Exception as exc:
                raise translate(exc, "session", "connect", self.profile) from None
        return self._session

    def resolved_region(self) -> str | None:
        """The region calls go to: the stage's, else the profile's or the environment's."""
        return self.region or self._get_session().region_name

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            session = self._get_session()
            try:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "max_attempts": 6},
                    read_timeout=300,
                    user_agent_extra="strum",
                )
                client = session.client(service, config=config)
            except Exception as exc:
                raise translate(exc, service, "connect", self.profile) from None
            client.meta.events.register("request-created", self._count_bytes)
            self._clients[service] = client
        return client

    def _count_bytes(self, request: Any, **_: Any) -> None:
        body = request.body
        if isinstance(body, (bytes, bytearray, str)):
            self.log.bytes_sent += len(body)
        elif hasattr(body, "seek") and hasattr(body, "tell"):
            position = body.tell()
            body.seek(0, 2)
            self.log.bytes_sent += body.tell() - position
            body.seek(position)

    def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Make one call (``operation`` in boto3's snake_case); botocore errors become ours."""
        client = self._client(service)
        name = client.meta.method_to_api_mapping.get(operation, operation)
        self.log.calls.append((service, name))
        try:
            response: dict[str, Any] = getattr(client, operation)(**params)
        except Exception as exc:
            raise translate(exc, service, name, self.profile) from None
        response.pop("ResponseMetadata", None)
        return response

    def _maybe(self, service: str, operation: str, **params: Any) -> dict[str, Any] | None:
        try:
            return self._call(service, operation, **params)
        except AwsError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise

    def _pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        token_in, token_out = _PAGING.get((service, operation), ("Marker", "NextMarker"))
        while True:
            page = self._call(service, operation, **params)
            yield from page.get(key) or ()
            token = page.get(token_out)
            if not token:
                return
            params[token_in] = token

    # -- STS ------------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        """``Account`` and ``Arn`` of the caller."""
        return self._call("sts", "get_caller_identity")

    def tagged(self, tags: dict[str, str], resource_type: str) -> list[str]:
        """ARNs of the resources of ``resource_type`` (e.g. ``lambda:function``) with ``tags``."""
        filters = [{"Key": key, "Values": [value]} for key, value in sorted(tags.items())]
        found = self._pages(
            "resourcegroupstaggingapi",
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=filters,
            ResourceTypeFilters=[resource_type],
        )
        return [str(resource["ResourceARN"]) for resource in found]

    # -- IAM ------------------------------------------------------------------------------

    def get_role(self, name: str) -> dict[str, Any] | None:
        found = self._maybe("iam", "get_role", RoleName=name)
        return found["Role"] if found else None

    def get_role_policy(self, role: str, policy: str) -> dict[str, Any] | None:
        found = self._maybe("iam", "get_role_policy", RoleName=role, PolicyName=policy)
        if found is None:
            return None
        document = found["PolicyDocument"]
        if isinstance(document, str):  # URL-encoded JSON on the wire; boto3 usually decodes
            import json
            from urllib.parse import unquote

            document = json.loads(unquote(document))
        return dict(document)

    def list_role_policies(self, role: str) -> list[str]:
        return list(self._pages("iam", "list_role_policies", "PolicyNames", RoleName=role))

    def create_role(self, name: str, trust: str, description: str, tags: dict[str, str]) -> str:
        role = self._call(
            "iam",
            "create_role",
            RoleName=name,
            AssumeRolePolicyDocument=trust,
            Description=description,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )["Role"]
        return str(role["Arn"])

    def put_role_policy(self, role: str, policy: str, document: str) -> None:
        self._call(
            "iam", "put_role_policy", RoleName=role, PolicyName=policy, PolicyDocument=document
        )

    def update_trust(self, role: str, trust: str) -> None:
        self._call("iam", "update_assume_role_policy", RoleName=role, PolicyDocument=trust)

    def delete_role(self, name: str) -> None:
        for policy in self.list_role_policies(name):
            self._call("iam", "delete_role_policy", RoleName=name, PolicyName=policy)
        self._call("iam", "delete_role", RoleName=name)

    # -- Lambda: functions, versions, aliases ----------------------------------------------

    def get_function(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        """``Configuration``, ``Tags`` and ``Concurrency`` of a function (version)."""
        extra = {"Qualifier": qualifier} if qualifier else {}
        return self._maybe("lambda", "get_function", FunctionName=name, **extra)

    def get_configuration(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        extra = {"Qualifier": qualifier} if qualifier else {}
        return self._maybe("lambda", "get_function_configuration", FunctionName=name, **extra)

    def create_function(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "create_function", **params)

    def update_function_code(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "update_function_code", **params)

    def update_function_configuration(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "update_function_configuration", **params)

    def tag_function(self, arn: str, tags: dict[str, str]) -> None:
        self._call("lambda", "tag_resource", Resource=arn, Tags=tags)

    def publish_version(self, name: str, code_sha256: str, description: str) -> str:
        published = self._call(
            "lambda",
            "publish_version",
            FunctionName=name,
            CodeSha256=code_sha256,
            Description=description,
        )
        return str(published["Version"])

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        return list(
            self._pages("lambda", "list_versions_by_function", "Versions", FunctionName=name)
        )

    def get_alias(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe("lambda", "get_alias", FunctionName=name, Name=alias)

    def create_alias(self, name: str, alias: str, version: str) -> None:
        self._call("lambda", "create_alias", FunctionName=name, Name=alias, FunctionVersion=version)

    def update_alias(self, name: str, alias: str, version: str) -> None:
        self._call("lambda", "update_alias", FunctionName=name, Name=alias, FunctionVersion=version)

    def delete_function(self, name: str) -> None:
        self._call("lambda", "delete_function", FunctionName=name)

    def invoke(self, name: str, qualifier: str, payload: bytes, *, asynchronous: bool) -> Any:
        response = self._call(
            "lambda",
            "invoke",
            FunctionName=name,
            Qualifier=qualifier,
            Payload=payload,
            InvocationType="Event" if asynchronous else "RequestResponse",
            LogType="None" if asynchronous else "Tail",
        )
        body = response.get("Payload")
        response["Payload"] = body.read() if body is not None else b""
        return response

    # -- Lambda: layers -------------------------------------------------------------------

    def list_layer_versions(self, layer: str) -> list[dict[str, Any]]:
        return list(self._pages("lambda", "list_layer_versions", "LayerVersions", LayerName=layer))

    def publish_layer_version(self, **params: Any) -> str:
        return str(self._call("lambda", "publish_layer_version", **params)["LayerVersionArn"])

    def delete_layer_version(self, layer: str, version: int) -> None:
        self._call("lambda", "delete_layer_version", LayerName=layer, VersionNumber=version)

    # -- Lambda: URLs, permissions, concurrency, async -------------------------------------

    def get_url_config(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe("lambda", "get_function_url_config", FunctionName=name, Qualifier=alias)

    def put_url_config(self, name: str, alias: str, invoke_mode: str, *, exists: bool) -> str:
        operation = "update_function_url_config" if exists else "create_function_url_config"
        result = self._call(
            "lambda",
            operation,
            FunctionName=name,
            Qualifier=alias,
            AuthType="NONE",
            InvokeMode=invoke_mode,
        )
        return str(result["FunctionUrl"])

    def delete_url_config(self, name: str, alias: str) -> None:
        self._call("lambda", "delete_function_url_config", FunctionName=name, Qualifier=alias)

    def get_policy(self, name: str, alias: str) -> list[dict[str, Any]]:
        """The statements of the resource policy of ``name:alias`` (none: ``[]``)."""
        import json

        found = self._maybe("lambda", "get_policy", FunctionName=name, Qualifier=alias)
        if not found or not found.get("Policy"):
            return []
        return list(json.loads(found["Policy"]).get("Statement") or [])

    def add_permission(self, name: str, alias: str, **statement: Any) -> None:
        self._call("lambda", "add_permission", FunctionName=name, Qualifier=alias, **statement)

    def remove_permission(self, name: str, alias: str, sid: str) -> None:
        self._call(
            "lambda", "remove_permission", FunctionName=name, Qualifier=alias, StatementId=sid
        )

    def put_concurrency(self, name: str, reserved: int | None) -> None:
        if reserved is None:
            self._call("lambda", "delete_function_concurrency", FunctionName=name)
        else:
            self._call(
                "lambda",
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=reserved,
            )

    def get_event_invoke_config(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe(
            "lambda", "get_function_event_invoke_config", FunctionName=name, Qualifier=alias
        )

    def put_event_invoke_config(self, name: str, alias: str, **settings: Any) -> None:
        self._call(
            "lambda",
            "put_function_event_invoke_config",
            FunctionName=name,
            Qualifier=alias,
            **settings,
        )

    def delete_event_invoke_config(self, name: str, alias: str) -> None:
        self._call(
            "lambda", "delete_function_event_invoke_config", FunctionName=name, Qualifier=alias
        )

    # -- Lambda: event source mappings ----------------------------------------------------

    def list_mappings(self, name: str) -> list[dict[str, Any]]:
        return list(
            self._pages(
                "lambda", "list_event_source_mappings", "EventSourceMappings", FunctionName=name
            )
        )

    def create_mapping(self, **params: Any) -> None:
        self._call("lambda", "create_event_source_mapping", **params)

    def update_mapping(self, uuid: str, **params: Any) -> None:
        self._call("lambda", "update_event_source_mapping", UUID=uuid, **params)

    def delete_mapping(self, uuid: str) -> None:
        self._call("lambda", "delete_event_source_mapping", UUID=uuid)

    # -- EventBridge ----------------------------------------------------------------------

    def list_rules(self, prefix: str) -> list[dict[str, Any]]:
        return list(self._pages("events", "list_rules", "Rules", NamePrefix=prefix))

    def rule_targets(self, rule: str) -> list[dict[str, Any]]:
        return list(self._pages("events", "list_targets_by_rule", "Targets", Rule=rule))

    def rule_tags(self, arn: str) -> dict[str, str]:
        tags = self._call("events", "list_tags_for_resource", ResourceARN=arn).get("Tags") or []
        return {tag["Key"]: tag["Value"] for tag in tags}

    def put_rule(
        self, name: str, expression: str, enabled: bool, description: str, tags: dict[str, str]
    ) -> str:
        result = self._call(
            "events",
            "put_rule",
            Name=name,
            ScheduleExpression=expression,
            State="ENABLED" if enabled else "DISABLED",
            Description=description,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
        return str(result["RuleArn"])

    def put_target(self, rule: str, target_id: str, arn: str) -> None:
        result = self._call(
            "events", "put_targets", Rule=rule, Targets=[{"Id": target_id, "Arn": arn}]
        )
        if result.get("FailedEntryCount"):
            failed = result["FailedEntries"][0]
            raise AwsError(
                f"EventBridge refused target {arn} for rule {rule}: {failed.get('ErrorMessage')}",
                str(failed.get("ErrorCode") or ""),
                "events PutTargets",
            )

    def delete_rule(self, rule: str) -> None:
        targets = [target["Id"] for target in self.rule_targets(rule)]
        if targets:
            self._call("events", "remove_targets", Rule=rule, Ids=targets)
        self._call("events", "delete_rule", Name=rule)

    # -- CloudWatch Logs ------------------------------------------------------------------

    def get_log_group(self, name: str) -> dict[str, Any] | None:
        for group in self._pages(
            "logs", "describe_log_groups", "logGroups", logGroupNamePrefix=name
        ):
            if group.get("logGroupName") == name:
                return dict(group)
        return None

    def create_log_group(self, name: str, tags: dict[str, str]) -> None:
        self._call("logs", "create_log_group", logGroupName=name, tags=tags)

    def set_retention(self, name: str, days: int | None) -> None:
        if days is None:
            self._call("logs", "delete_retention_policy", logGroupName=name)
        else:
            self._call("logs", "put_retention_policy", logGroupName=name, retentionInDays=days)

    def delete_log_group(self, name: str) -> None:
        self._call("logs", "delete_log_group", logGroupName=name)

    # -- API Gateway v2 (HTTP APIs) -------------------------------------------------------

    def list_apis(self) -> list[dict[str, Any]]:
        return list(self._pages("apigatewayv2", "get_apis", "Items"))

    def api_parts(self, api_id: str) -> dict[str, list[dict[str, Any]]]:
        """The integrations, routes and stages of an HTTP API."""
        return {
            part: list(self._pages("apigatewayv2", f"get_{part}", "Items", ApiId=api_id))
            for part in ("integrations", "routes", "stages")
        }

    def create_api(self, name: str, description: str, tags: dict[str, str]) -> dict[str, Any]:
        return self._call(
            "apigatewayv2",
            "create_api",
            Name=name,
            ProtocolType="HTTP",
            Description=description,
            Tags=tags,
        )

    def create_integration(self, api_id: str, target_arn: str) -> str:
        result = self._call(
            "apigatewayv2",
            "create_integration",
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=target_arn,
            PayloadFormatVersion="2.0",
        )
        return str(result["IntegrationId"])

    def update_integration(self, api_id: str, integration_id: str, target_arn: str) -> None:
        self._call(
            "apigatewayv2",
            "update_integration",
            ApiId=api_id,
            IntegrationId=integration_id,
            IntegrationUri=target_arn,
            PayloadFormatVersion="2.0",
        )

    def create_route(self, api_id: str, integration_id: str) -> None:
        self._call(
            "apigatewayv2",
            "create_route",
            ApiId=api_id,
            RouteKey="$default",
            Target=f"integrations/{integration_id}",
        )

    def update_route(self, api_id: str, route_id: str, integration_id: str) -> None:
        self._call(
            "apigatewayv2",
            "update_route",
            ApiId=api_id,
            RouteId=route_id,
            Target=f"integrations/{integration_id}",
        )

    def create_stage(self, api_id: str, tags: dict[str, str]) -> None:
        self._call(
            "apigatewayv2",
            "create_stage",
            ApiId=api_id,
            StageName="$default",
            AutoDeploy=True,
            Tags=tags,
        )

    def delete_api(self, api_id: str) -> None:
        self._call("apigatewayv2", "delete_api", ApiId=api_id)


# (input token, output token) of the paginated calls that do not use Marker / NextMarker.
_PAGING = {
    ("resourcegroupstaggingapi", "get_resources"): ("PaginationToken", "PaginationToken"),
    ("iam", "list_role_policies"): ("Marker", "Marker"),
    ("events", "list_rules"): ("NextToken", "NextToken"),
    ("events", "list_targets_by_rule"): ("NextToken", "NextToken"),
    ("logs", "describe_log_groups"): ("nextToken", "nextToken"),
    ("apigatewayv2", "get_apis"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_integrations"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_routes"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_stages"): ("NextToken", "NextToken"),
}
