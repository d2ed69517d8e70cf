"""Carrying out a local deploy plan: the only deploy code that writes to the platform.

Order matters for safety: code and configuration change ``$LATEST`` only; the stage keeps
serving its alias's published version until the alias moves - one atomic call - so a
failure half-way leaves the previous version serving, and running the deploy again resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strum.deploy.local.client import PlatformLambdaAPI
from strum.deploy.local.plan import PENDING_LAYER, DesiredFunction, PublishLayer, SyncSchedules
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
from strum.deploy.target import Reporter
from strum.deploy.verify import verify_version

Produced = dict[str, Any]


def execute(api: PlatformLambdaAPI, steps: list[Step], report: Reporter) -> Produced:
    """Run ``steps``; return what they produced (``version``, ``url``)."""
    produced: Produced = {}
    for step in steps:
        run = RUNNERS.get(type(step))
        if run is None:  # pragma: no cover - a new step type without a runner
            raise TypeError(f"no executor for {type(step).__name__}")
        with report(step.describe()):
            run(api, step, produced)
    return produced


def _desired(step: Any) -> DesiredFunction:
    desired: DesiredFunction = step.desired
    return desired


def _configuration(desired: DesiredFunction, produced: Produced) -> dict[str, Any]:
    """The managed configuration, naming the layer version this deploy published."""
    config = desired.configuration()
    config["Layers"] = [
        produced["layer_arn"] if arn == PENDING_LAYER else arn for arn in config["Layers"]
    ]
    return config


def _publish_layer(api: PlatformLambdaAPI, step: PublishLayer, produced: Produced) -> None:
    desired = _desired(step)
    assert desired.layer_name is not None
    assert desired.layer_zip is not None
    published = api.publish_layer_version(
        desired.layer_name,
        desired.layer_zip,
        desired.layer_marker,
        [desired.runtime],
        desired.layer_sha256,
    )
    produced["layer_arn"] = published["LayerVersionArn"]


def _create_function(api: PlatformLambdaAPI, step: CreateFunction, produced: Produced) -> None:
    desired = _desired(step)
    config = {
        "FunctionName": desired.name,
        "Role": desired.role,
        **_configuration(desired, produced),
        "Publish": False,
    }
    config["Tags"] = {"strum:function": desired.name}
    api.create_function(config, desired.zip_path)


def _update_code(api: PlatformLambdaAPI, step: UpdateCode, produced: Produced) -> None:
    desired = _desired(step)
    api.update_function_code(desired.name, desired.zip_path)


def _update_configuration(
    api: PlatformLambdaAPI, step: UpdateConfiguration, produced: Produced
) -> None:
    desired = _desired(step)
    api.update_function_configuration(desired.name, _configuration(desired, produced))


def _publish_version(api: PlatformLambdaAPI, step: PublishVersion, produced: Produced) -> None:
    desired = _desired(step)
    published = api.publish_version(desired.name, desired.code_sha256, desired.description)
    produced["version"] = published["Version"]


def _check_version(api: PlatformLambdaAPI, step: CheckVersion, produced: Produced) -> None:
    desired = _desired(step)
    version = produced["version"]

    def probe(payload: bytes) -> tuple[str | None, bytes]:
        _, headers, body = api.invoke(desired.name, version, payload)
        return headers.get("x-amz-function-error"), body

    verify_version(
        probe,
        function=desired.name,
        version=version,
        alias=desired.alias,
        serving=step.serving,
        project=desired.project,
        check=step.check,
    )


def _point_alias(api: PlatformLambdaAPI, step: PointAlias, produced: Produced) -> None:
    version = produced["version"]
    if step.exists:
        api.update_alias(step.desired.name, step.desired.alias, version)
    else:
        api.create_alias(step.desired.name, step.desired.alias, version)


def _ensure_url(api: PlatformLambdaAPI, step: EnsureUrl, produced: Produced) -> None:
    config = {"AuthType": "NONE", "InvokeMode": step.desired.invoke_mode}
    if step.exists:
        result = api.update_url_config(step.desired.name, step.desired.alias, config)
    else:
        result = api.create_url_config(step.desired.name, step.desired.alias, config)
    produced["url"] = result.get("FunctionUrl")


def _remove_url(api: PlatformLambdaAPI, step: RemoveUrl, produced: Produced) -> None:
    api.delete_url_config(step.desired.name, step.desired.alias)


def _set_concurrency(api: PlatformLambdaAPI, step: SetConcurrency, produced: Produced) -> None:
    reserved = step.desired.reserved_concurrency
    if reserved is None:
        api.delete_concurrency(step.desired.name)
    else:
        api.put_concurrency(step.desired.name, reserved)


def _set_event_invoke(
    api: PlatformLambdaAPI, step: SetEventInvokeConfig, produced: Produced
) -> None:
    settings = step.desired.event_invoke
    if settings is None:
        api.delete_event_invoke_config(step.desired.name, step.desired.alias)
    else:
        api.put_event_invoke_config(step.desired.name, step.desired.alias, settings)


def _sync_schedules(api: PlatformLambdaAPI, step: SyncSchedules, produced: Produced) -> None:
    api.put_schedules(step.desired.name, step.desired.alias, step.desired.schedules)


# Step type -> what carries it out on the platform.
RUNNERS: dict[type[Step], Callable[[PlatformLambdaAPI, Any, Produced], None]] = {
    PublishLayer: _publish_layer,
    CreateFunction: _create_function,
    UpdateCode: _update_code,
    UpdateConfiguration: _update_configuration,
    PublishVersion: _publish_version,
    CheckVersion: _check_version,
    PointAlias: _point_alias,
    EnsureUrl: _ensure_url,
    RemoveUrl: _remove_url,
    SetConcurrency: _set_concurrency,
    SetEventInvokeConfig: _set_event_invoke,
    SyncSchedules: _sync_schedules,
}
