"""Carrying out a deploy plan: the only deploy code that calls the Lambda API.

Order matters for safety: code and configuration change ``$LATEST`` only; the stage keeps
serving its alias's published version until the alias moves - one atomic call - so a
failure half-way leaves the previous version serving, and running the deploy again resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from strum.deploy.api import PlatformLambdaAPI
from strum.deploy.plan import (
    CreateFunction,
    EnsureUrl,
    PointAlias,
    PublishVersion,
    RemoveUrl,
    SetConcurrency,
    SetEventInvokeConfig,
    Step,
    SyncSchedules,
    UpdateCode,
    UpdateConfiguration,
)

StepReporter = Callable[[str], AbstractContextManager[Any]]


def execute(api: PlatformLambdaAPI, steps: list[Step], report: StepReporter) -> dict[str, Any]:
    """Run ``steps``; return what they produced (``version``, ``url``)."""
    produced: dict[str, Any] = {}
    for step in steps:
        with report(step.describe()):
            _run(api, step, produced)
    return produced


def _run(api: PlatformLambdaAPI, step: Step, produced: dict[str, Any]) -> None:
    if isinstance(step, CreateFunction):
        desired = step.desired
        config = {
            "FunctionName": desired.name,
            "Role": desired.role,
            **desired.configuration(),
            "Publish": False,
        }
        config["Tags"] = {"strum:function": desired.name}
        api.create_function(config, desired.zip_path.read_bytes())
    elif isinstance(step, UpdateCode):
        api.update_function_code(step.desired.name, step.desired.zip_path.read_bytes())
    elif isinstance(step, UpdateConfiguration):
        api.update_function_configuration(step.desired.name, step.desired.configuration())
    elif isinstance(step, PublishVersion):
        published = api.publish_version(
            step.desired.name, step.desired.code_sha256, step.desired.description
        )
        produced["version"] = published["Version"]
    elif isinstance(step, PointAlias):
        version = produced["version"]
        if step.exists:
            api.update_alias(step.desired.name, step.desired.alias, version)
        else:
            api.create_alias(step.desired.name, step.desired.alias, version)
    elif isinstance(step, EnsureUrl):
        config = {"AuthType": "NONE", "InvokeMode": step.desired.invoke_mode}
        if step.exists:
            result = api.update_url_config(step.desired.name, step.desired.alias, config)
        else:
            result = api.create_url_config(step.desired.name, step.desired.alias, config)
        produced["url"] = result.get("FunctionUrl")
    elif isinstance(step, RemoveUrl):
        api.delete_url_config(step.desired.name, step.desired.alias)
    elif isinstance(step, SetConcurrency):
        if step.desired.reserved_concurrency is None:
            api.delete_concurrency(step.desired.name)
        else:
            api.put_concurrency(step.desired.name, step.desired.reserved_concurrency)
    elif isinstance(step, SetEventInvokeConfig):
        if step.desired.event_invoke is None:
            api.delete_event_invoke_config(step.desired.name, step.desired.alias)
        else:
            api.put_event_invoke_config(
                step.desired.name, step.desired.alias, step.desired.event_invoke
            )
    elif isinstance(step, SyncSchedules):
        api.put_schedules(step.desired.name, step.desired.alias, step.desired.schedules)
    else:  # pragma: no cover - a new step type without an executor branch
        raise TypeError(f"no executor for {type(step).__name__}")
