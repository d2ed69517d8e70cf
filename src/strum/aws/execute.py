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
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.consumers import CONSUMER_STEPS
from strum.aws.consumers_io import run_consumer_step
from strum.aws.domain_io import DOMAIN_STEPS, run_domain_step
from strum.aws.errors import AwsDeployError, AwsError
from strum.aws.plan import ROLE_POLICY_NAME, DesiredStage, api_grant
from strum.aws.staging import stage_package
from strum.aws.steps import (
    CreateFunction,
    CreateLogGroup,
    CreateMapping,
    CreateRole,
    DeleteMapping,
    DeleteOwnRole,
    EnsureHttpApi,
    EnsureUrl,
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
from strum.deploy.plan import Step

Reporter = Callable[[str], AbstractContextManager[Any]]
Notify = Callable[[str], None]


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
        c = self.client
        d: DesiredStage = step.desired  # type: ignore[attr-defined]
        if isinstance(step, CreateRole):
            c.create_role(str(d.role_name), d.trust, f"strum: {d.function} (Lambda)", d.tags)
        elif isinstance(step, UpdateTrust):
            c.update_trust(str(d.role_name), d.trust)
        elif isinstance(step, PutRolePolicy):
            c.put_role_policy(str(d.role_name), ROLE_POLICY_NAME, d.policy)
        elif isinstance(step, DeleteOwnRole):
            c.delete_role(step.name)
        elif isinstance(step, CreateLogGroup):
            c.create_log_group(d.log_group, d.tags)
        elif isinstance(step, SetRetention):
            c.set_retention(d.log_group, d.log_retention_days)
        elif isinstance(step, PublishLayer):
            self.produced["layer_arn"] = c.publish_layer_version(
                LayerName=d.layer_name,
                Description=d.layer_marker,
                Content=_code(d, d.layer_key, d.layer_zip),
                CompatibleRuntimes=[d.runtime],
                CompatibleArchitectures=[d.architecture],
            )
        elif isinstance(step, StagePackage):
            stage_package(self.client, d, step.key, step.path, self.produced)
        elif isinstance(step, CreateFunction):
            self._create_function(d)
        elif isinstance(step, UpdateCode):
            self._when_ready(
                d.function,
                c.update_function_code,
                FunctionName=d.function,
                Architectures=[d.architecture],
                **_code(d, d.code_key, d.code_zip),
            )
        elif isinstance(step, UpdateConfiguration):
            config = d.configuration(self.produced["layer_arn"])
            self._when_ready(
                d.function, c.update_function_configuration, FunctionName=d.function, **config
            )
        elif isinstance(step, TagFunction):
            c.tag_function(d.function_arn, d.tags)
        elif isinstance(step, PublishVersion):
            self._wait_ready(d.function)
            self.produced["version"] = self._retry_conflict(
                lambda: c.publish_version(d.function, d.code_sha256, d.description)
            )
        elif isinstance(step, PointAlias):
            if step.exists:
                c.update_alias(d.function, d.alias, self.produced["version"])
            else:
                c.create_alias(d.function, d.alias, self.produced["version"])
            self.produced["alias_moved"] = True
        elif isinstance(step, SetConcurrency):
            c.put_concurrency(d.function, d.reserved_concurrency)
        elif isinstance(step, EnsureUrl):
            self.produced["url"] = c.put_url_config(
                d.function, d.alias, d.invoke_mode, exists=step.exists
            )
        elif isinstance(step, RemoveUrl):
            c.delete_url_config(d.function, d.alias)
        elif isinstance(step, GrantPermission):
            c.add_permission(d.function, d.alias, **step.grant.params())
        elif isinstance(step, RevokePermission):
            c.remove_permission(d.function, d.alias, step.sid)
        elif isinstance(step, EnsureHttpApi):
            self._ensure_api(step)
        elif isinstance(step, RemoveHttpApi):
            c.delete_api(step.api_id)
        elif isinstance(step, SetEventInvokeConfig):
            self._event_invoke(d)
        elif isinstance(step, PutSchedule):
            s = step.schedule
            c.put_rule(s.rule, s.expression, s.enabled, f"strum: {d.function} {s.schedule}", d.tags)
            c.put_target(s.rule, "strum", d.alias_arn)
        elif isinstance(step, RemoveSchedule):
            c.delete_rule(step.rule)
        elif isinstance(step, CreateMapping):
            m = step.mapping
            extra = {"StartingPosition": m.starting_position} if m.starting_position else {}
            c.create_mapping(
                FunctionName=d.alias_arn,
                EventSourceArn=m.source_arn,
                Tags=d.tags,
                **m.settings(),
                **extra,
            )
        elif isinstance(step, UpdateMapping):
            c.update_mapping(step.uuid, FunctionName=d.alias_arn, **step.mapping.settings())
        elif isinstance(step, DeleteMapping):
            c.delete_mapping(step.uuid)
        elif isinstance(step, CONSUMER_STEPS):
            run_consumer_step(self.client, step)
        elif isinstance(step, DOMAIN_STEPS):
            run_domain_step(self, step)
        else:  # pragma: no cover - a new step type without an executor branch
            raise TypeError(f"no executor for {type(step).__name__}")

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
                raise AwsDeployError(
                    f"Lambda could not prepare {name}: {reason}; fix the cause and run the "
                    "deploy again (the stage still serves its previous version)"
                )
            if state == "Active" and update != "InProgress":
                return
            if self.patience.clock() + delay > deadline:
                raise AwsDeployError(
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

    def _ensure_api(self, step: EnsureHttpApi) -> None:
        c, d, api = self.client, step.desired, step.current
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

    def _event_invoke(self, d: DesiredStage) -> None:
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


def _code(d: DesiredStage, key: str | None, path: Any) -> dict[str, Any]:
    """The package for CreateFunction, UpdateFunctionCode or PublishLayerVersion: in the
    request, or where ``StagePackage`` put it in S3."""
    if key is not None:
        return {"S3Bucket": d.bucket, "S3Key": key}
    return {"ZipFile": _read(path)}


def _read(path: Any) -> bytes:
    if path is None:  # pragma: no cover - the planner only plans uploads of built zips
        raise AwsDeployError("internal: a package to upload was not built")
    data: bytes = path.read_bytes()
    return data
