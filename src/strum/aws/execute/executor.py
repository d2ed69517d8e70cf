"""Carrying out an AWS deploy plan: the only deploy code that writes to AWS.

AWS is eventually consistent, and this is where that is handled, each wait bounded by a
deadline and reported while it lasts:

- a role created a moment ago is not yet assumable by Lambda: ``CreateFunction`` answers
  ``InvalidParameterValueException`` ("cannot be assumed") for some seconds; retried;
- a function being created or updated is ``Pending`` / ``InProgress`` and refuses further
  changes (``ResourceConflictException``) until it is ready; polled until it is.

Code and configuration change ``$LATEST`` only; the stage serves its alias's published
version until the alias moves, in one call, so a failure half-way changes nothing users see.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.aws.execute.consumers import CONSUMER_RUNNERS
from strum.aws.execute.domain import DOMAIN_RUNNERS
from strum.aws.execute.s3_uploads import upload_package
from strum.aws.model import ROLE_POLICY_NAME, DesiredStage, api_grant
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
from strum.deploy.errors import DeployError
from strum.deploy.steps import (
    CheckVersion,
    CreateFunction,
    EnsureUrl,
    PointAlias,
    PublishVersion,
    RemoveUrl,
    SetConcurrency,
    SetEventInvokeConfig,
    Step,
    UpdateCode,
    UpdateConfiguration,
)
from strum.deploy.target import Notify, Reporter
from strum.deploy.verify import verify_version


@dataclass
class Patience:
    """How long to wait for AWS to catch up (seconds), and how to wait."""

    role_propagation: float = 90.0
    function_ready: float = 300.0
    # DNS validation usually takes a few minutes, and now and then half an hour.
    certificate_issued: float = 1800.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


class Executor:
    """Runs the steps of one deploy against one ``AwsClient``."""

    def __init__(
        self,
        client: AwsClient,
        notify: Notify,
        layer_arn: str | None = None,
        patience: Patience | None = None,
    ) -> None:
        self.client = client
        self.notify = notify
        self.patience = patience or Patience()
        self.produced: dict[str, Any] = {"layer_arn": layer_arn}

    def run(self, steps: list[Step], report: Reporter) -> dict[str, Any]:
        """Run ``steps`` in order; return what they produced (``version``, ``url``, ...)."""
        for step in steps:
            with report(step.describe()):
                self._run(step)
        return self.produced

    def _run(self, step: Step) -> None:
        kind = type(step)
        if kind in CONSUMER_RUNNERS:
            CONSUMER_RUNNERS[kind](self.client, step)
        elif kind in DOMAIN_RUNNERS:
            DOMAIN_RUNNERS[kind](self, step)
        elif kind in _RUNNERS:
            _RUNNERS[kind](self, step, step.desired)  # type: ignore[attr-defined]
        else:  # pragma: no cover - a new step type without a runner
            raise TypeError(f"no executor for {kind.__name__}")

    # -- one method per step type (see _RUNNERS) --------------------------------------------

    def _create_role(self, step: CreateRole, d: DesiredStage) -> None:
        self.client.create_role(str(d.role_name), d.trust, f"strum: {d.function} (Lambda)", d.tags)

    def _update_trust(self, step: UpdateTrust, d: DesiredStage) -> None:
        self.client.update_trust(str(d.role_name), d.trust)

    def _put_role_policy(self, step: PutRolePolicy, d: DesiredStage) -> None:
        self.client.put_role_policy(str(d.role_name), ROLE_POLICY_NAME, d.policy)

    def _delete_own_role(self, step: DeleteOwnRole, d: DesiredStage) -> None:
        self.client.delete_role(step.name)

    def _create_log_group(self, step: CreateLogGroup, d: DesiredStage) -> None:
        self.client.create_log_group(d.log_group, d.tags)

    def _set_retention(self, step: SetRetention, d: DesiredStage) -> None:
        self.client.set_retention(d.log_group, d.log_retention_days)

    def _publish_layer(self, step: PublishLayer, d: DesiredStage) -> None:
        self.produced["layer_arn"] = self.client.publish_layer_version(
            LayerName=d.layer_name,
            Description=d.layer_marker,
            Content=_code(d, d.layer_key, d.layer_zip),
            CompatibleRuntimes=[d.runtime],
            CompatibleArchitectures=[d.architecture],
        )

    def _upload_to_s3(self, step: UploadToS3, d: DesiredStage) -> None:
        upload_package(self.client, d, step.key, step.path, self.produced)

    def _create(self, step: CreateFunction, d: DesiredStage) -> None:
        self._create_function(d)

    def _update_code(self, step: UpdateCode, d: DesiredStage) -> None:
        self._when_ready(
            d.function,
            self.client.update_function_code,
            FunctionName=d.function,
            Architectures=[d.architecture],
            **_code(d, d.code_key, d.code_zip),
        )

    def _update_configuration(self, step: UpdateConfiguration, d: DesiredStage) -> None:
        config = d.configuration(self.produced["layer_arn"])
        self._when_ready(
            d.function, self.client.update_function_configuration, FunctionName=d.function, **config
        )

    def _tag_function(self, step: TagFunction, d: DesiredStage) -> None:
        self.client.tag_function(d.function_arn, d.tags)

    def _publish_version(self, step: PublishVersion, d: DesiredStage) -> None:
        self._wait_ready(d.function)
        self.produced["version"] = self._retry_conflict(
            lambda: self.client.publish_version(d.function, d.code_sha256, d.description)
        )

    def _check_version(self, step: CheckVersion, d: DesiredStage) -> None:
        version = self.produced["version"]

        def probe(payload: bytes) -> tuple[str | None, bytes]:
            # The version itself, never the alias: nothing serves it yet. An init error
            # comes back as FunctionError with the runtime's error document as the payload.
            response = self.client.invoke(d.function, version, payload, asynchronous=False)
            return response.get("FunctionError"), bytes(response.get("Payload") or b"")

        verify_version(
            probe,
            function=d.function,
            version=version,
            alias=d.alias,
            serving=step.serving,
            project=d.project_dir,
            check=step.check,
            region=d.region,
        )

    def _point_alias(self, step: PointAlias, d: DesiredStage) -> None:
        if step.exists:
            self.client.update_alias(d.function, d.alias, self.produced["version"])
        else:
            self.client.create_alias(d.function, d.alias, self.produced["version"])
        self.produced["alias_moved"] = True

    def _set_concurrency(self, step: SetConcurrency, d: DesiredStage) -> None:
        self.client.put_concurrency(d.function, d.reserved_concurrency)

    def _ensure_url(self, step: EnsureUrl, d: DesiredStage) -> None:
        self.produced["url"] = self.client.put_url_config(
            d.function, d.alias, d.invoke_mode, exists=step.exists
        )

    def _remove_url(self, step: RemoveUrl, d: DesiredStage) -> None:
        self.client.delete_url_config(d.function, d.alias)

    def _grant_permission(self, step: GrantPermission, d: DesiredStage) -> None:
        self.client.add_permission(d.function, d.alias, **step.grant.params())

    def _revoke_permission(self, step: RevokePermission, d: DesiredStage) -> None:
        self.client.remove_permission(d.function, d.alias, step.sid)

    def _remove_http_api(self, step: RemoveHttpApi, d: DesiredStage) -> None:
        self.client.delete_api(step.api_id)

    def _put_schedule(self, step: PutSchedule, d: DesiredStage) -> None:
        s = step.schedule
        self.client.put_rule(
            s.rule, s.expression, s.enabled, f"strum: {d.function} {s.schedule}", d.tags
        )
        self.client.put_target(s.rule, "strum", d.alias_arn)

    def _remove_schedule(self, step: RemoveSchedule, d: DesiredStage) -> None:
        self.client.delete_rule(step.rule)

    def _create_mapping(self, step: CreateMapping, d: DesiredStage) -> None:
        m = step.mapping
        extra = {"StartingPosition": m.starting_position} if m.starting_position else {}
        self.client.create_mapping(
            FunctionName=d.alias_arn,
            EventSourceArn=m.source_arn,
            Tags=d.tags,
            **m.settings(),
            **extra,
        )

    def _update_mapping(self, step: UpdateMapping, d: DesiredStage) -> None:
        self.client.update_mapping(step.uuid, FunctionName=d.alias_arn, **step.mapping.settings())

    def _delete_mapping(self, step: DeleteMapping, d: DesiredStage) -> None:
        self.client.delete_mapping(step.uuid)

    # -- waiting for AWS ----------------------------------------------------------------------

    def _create_function(self, d: DesiredStage) -> None:
        params = {
            "FunctionName": d.function,
            "Code": _code(d, d.code_key, d.code_zip),
            "Architectures": [d.architecture],
            "PackageType": "Zip",
            "Publish": False,
            "Tags": d.tags,
            **d.configuration(self.produced["layer_arn"]),
        }
        deadline = self.patience.clock() + self.patience.role_propagation
        delay = 2.0
        while True:
            try:
                self.client.create_function(**params)
                break
            except AwsError as exc:
                assumable = exc.code == "InvalidParameterValueException" and (
                    "assume" in str(exc).lower() or "role" in str(exc).lower()
                )
                if not assumable or self.patience.clock() + delay > deadline:
                    raise
                self.notify(
                    f"the new role is not assumable by Lambda yet; retrying in {delay:.0f} s"
                )
                self.patience.sleep(delay)
                delay = min(delay * 1.5, 10.0)
        self._wait_ready(d.function)

    def _wait_ready(self, name: str) -> None:
        """Poll until the function is Active and not updating; bounded by a deadline."""
        deadline = self.patience.clock() + self.patience.function_ready
        delay, told = 0.5, False
        while True:
            config = self.client.get_configuration(name) or {}
            state = config.get("State", "Active")
            update = config.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = config.get("StateReason") or config.get("LastUpdateStatusReason")
                raise DeployError(
                    f"Lambda could not prepare {name}: {reason}; fix the cause and run the "
                    "deploy again (the stage still serves its previous version)"
                )
            if state == "Active" and update != "InProgress":
                return
            if self.patience.clock() + delay > deadline:
                raise DeployError(
                    f"{name} is still {state}/{update} after {self.patience.function_ready:.0f} s; "
                    "run the deploy again to resume (the stage still serves its previous version)"
                )
            if not told:
                self.notify(f"waiting for Lambda to finish preparing {name} ({state}, {update})")
                told = True
            self.patience.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _when_ready(self, name: str, call: Callable[..., Any], **params: Any) -> None:
        self._retry_conflict(lambda: call(**params))
        self._wait_ready(name)

    def _retry_conflict(self, call: Callable[[], Any]) -> Any:
        """``call``, again after waiting while Lambda says an update is in progress."""
        for _ in range(5):
            try:
                return call()
            except AwsError as exc:
                if exc.code != "ResourceConflictException":
                    raise
                self.patience.sleep(2.0)
        return call()

    def _ensure_api(self, step: EnsureHttpApi, d: DesiredStage) -> None:
        c, api = self.client, step.current
        if api is None:
            created = c.create_api(d.function, f"strum: {d.project} ({d.stage})", d.tags)
            api_id, endpoint = str(created["ApiId"]), str(created.get("ApiEndpoint") or "")
            integration_id = route_id = None
            has_stage = has_permission = False
        else:
            api_id, endpoint = api.api_id, api.endpoint
            integration_id, route_id = api.integration_id, api.route_id
            has_stage, has_permission = api.has_default_stage, step.has_permission
        if integration_id is None:
            integration_id = c.create_integration(api_id, d.alias_arn)
        elif api is not None and (
            api.integration_uri != d.alias_arn or api.payload_version != "2.0"
        ):
            c.update_integration(api_id, integration_id, d.alias_arn)
        if route_id is None:
            c.create_route(api_id, integration_id)
        elif api is not None and api.route_target != f"integrations/{integration_id}":
            c.update_route(api_id, route_id, integration_id)
        if not has_stage:
            c.create_stage(api_id, d.tags)
        grant = api_grant(d, api_id)
        if has_permission:
            c.remove_permission(d.function, d.alias, grant.sid)
        c.add_permission(d.function, d.alias, **grant.params())
        self.produced["api_endpoint"] = endpoint
        self.produced["api_id"] = api_id

    def _event_invoke(self, step: SetEventInvokeConfig, d: DesiredStage) -> None:
        if d.event_invoke is None:
            try:
                self.client.delete_event_invoke_config(d.function, d.alias)
            except AwsError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
            return
        retries, max_age, on_success, on_failure = d.event_invoke
        destinations = {
            key: {"Destination": arn}
            for key, arn in (("OnSuccess", on_success), ("OnFailure", on_failure))
            if arn
        }
        self.client.put_event_invoke_config(
            d.function,
            d.alias,
            MaximumRetryAttempts=retries,
            MaximumEventAgeInSeconds=max_age,
            DestinationConfig=destinations,
        )


# Step type -> the Executor method that carries it out (consumer and domain steps have
# their own tables, in strum.aws.execute.consumers and .domain).
_RUNNERS: dict[type[Step], Callable[[Executor, Any, DesiredStage], None]] = {
    CreateRole: Executor._create_role,
    UpdateTrust: Executor._update_trust,
    PutRolePolicy: Executor._put_role_policy,
    DeleteOwnRole: Executor._delete_own_role,
    CreateLogGroup: Executor._create_log_group,
    SetRetention: Executor._set_retention,
    PublishLayer: Executor._publish_layer,
    UploadToS3: Executor._upload_to_s3,
    CreateFunction: Executor._create,
    UpdateCode: Executor._update_code,
    UpdateConfiguration: Executor._update_configuration,
    TagFunction: Executor._tag_function,
    PublishVersion: Executor._publish_version,
    CheckVersion: Executor._check_version,
    PointAlias: Executor._point_alias,
    SetConcurrency: Executor._set_concurrency,
    EnsureUrl: Executor._ensure_url,
    RemoveUrl: Executor._remove_url,
    GrantPermission: Executor._grant_permission,
    RevokePermission: Executor._revoke_permission,
    EnsureHttpApi: Executor._ensure_api,
    RemoveHttpApi: Executor._remove_http_api,
    SetEventInvokeConfig: Executor._event_invoke,
    PutSchedule: Executor._put_schedule,
    RemoveSchedule: Executor._remove_schedule,
    CreateMapping: Executor._create_mapping,
    UpdateMapping: Executor._update_mapping,
    DeleteMapping: Executor._delete_mapping,
}


def _code(d: DesiredStage, key: str | None, path: Any) -> dict[str, Any]:
    """The package for CreateFunction, UpdateFunctionCode or PublishLayerVersion: in the
    request, or where ``UploadToS3`` put it in S3."""
    if key is not None:
        return {"S3Bucket": d.bucket, "S3Key": key}
    return {"ZipFile": _read(path)}


def _read(path: Any) -> bytes:
    if path is None:  # pragma: no cover - the planner only plans uploads of built zips
        raise DeployError("internal: a package to upload was not built")
    data: bytes = path.read_bytes()
    return data
