"""The local target: config + build + strum's platform, end to end.

Each operation takes a resolved stage config and a reporter (the CLI's progress output),
and talks to the platform through ``PlatformLambdaAPI`` only. The function of a stage is
``<project>-<stage>``; its alias is the stage name; its URL serves the alias, so a deploy
or a rollback is one atomic alias move.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.deploy.api import LambdaAPIError, PlatformLambdaAPI
from strum.deploy.environment import function_environment
from strum.deploy.plan import CurrentFunction, DesiredFunction, Step, plan_deploy
from strum.errors import StrumError
from strum.platform.home import Home

Reporter = Callable[[str], AbstractContextManager[Any]]
Notify = Callable[[str], None]


class DeployError(StrumError):
    """A deploy, rollback or undeploy cannot go ahead as asked."""

    exit_code = 7


@dataclass
class DeployResult:
    """What a deploy did: its steps (empty when nothing changed), the URL and the version."""

    function: str
    alias: str
    steps: list[Step]
    url: str | None
    version: str | None
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


def manifest_for(config: Any) -> dict[str, Any]:
    """The frozen manifest the entry router reads, from a stage config."""
    app = config.app
    django_settings = config.django_settings
    if app and ":" not in app and not django_settings:
        django_settings, app = app, None  # "mysite.settings": a Django project
    return {
        "version": 1,
        "app": app,
        "django_settings": django_settings,
        "lifespan": config.lifespan,
        "base_path": config.base_path,
        "text_mime_types": list(config.text_mime_types),
        "stream": config.stream,
        "schedules": {
            name: {"function": schedule.function, "expression": schedule.expression}
            for name, schedule in config.schedules.items()
            if schedule.enabled
        },
        "events": [
            {
                "name": name,
                "source": event.source,
                "function": event.function,
                "arn": event.arn,
                "batch": event.batch,
            }
            for name, event in config.events.items()
            if event.enabled
        ],
    }


def connect(home: Home, notify: Notify, *, start: bool = True) -> PlatformLambdaAPI:
    """An API client for the platform of ``home``, starting the platform if asked."""
    from strum.platform import daemon

    running = daemon.find_running(home)
    if running is None:
        if not start:
            raise DeployError(
                f"no strum platform is running for {home.root}; `strum deploy` starts one, or "
                "run `strum platform start`"
            )
        notify(f"starting strum's platform (state in {home.root}) ...")
        running = daemon.start(home)
        notify(f"platform running at {running.endpoint}")
    return PlatformLambdaAPI(running.endpoint)


def package_spec(config: Any, target: Any, home: Home, out_dir: Path | None = None) -> Any:
    """What to build for a stage: its project, manifest and file rules, for ``target``."""
    from strum.build import PackageSpec

    return PackageSpec(
        project=config.project_dir,
        name=config.function_name,
        target=target,
        manifest=manifest_for(config),
        exclude=tuple(config.exclude),
        include=tuple(config.include),
        cache_dir=home.root / "cache",
        out_dir=out_dir,
    )


def desired_function(
    config: Any, home: Home, report: Reporter, notes: list[str]
) -> DesiredFunction:
    """Build the stage's package and describe the function it should become."""
    from strum.build import Target, build

    target = Target.local()
    if config.python and config.python != target.python:
        notes.append(
            f"python = {config.python!r} shapes AWS builds; the local platform runs functions on "
            f"this machine's Python {target.python}"
        )
    cache = home.root / "cache"
    spec = package_spec(config, target, home)
    messages: list[str] = []
    with report("building the package"):
        artifact = build(spec, progress=messages.append)
        zip_path, sha_hex = artifact.function_zip(cache)
    notes.extend(artifact.notes)
    return DesiredFunction(
        name=config.function_name,
        alias=config.stage,
        runtime=f"python{target.python}",
        code_sha256=base64.b64encode(bytes.fromhex(sha_hex)).decode(),
        zip_path=zip_path,
        memory=config.memory,
        timeout=config.timeout,
        ephemeral_storage=config.ephemeral_storage,
        environment=function_environment(config, notes),
        permissions=permissions_field(config),
        url=config.url,
        invoke_mode="RESPONSE_STREAM" if config.stream else "BUFFERED",
        reserved_concurrency=config.reserved_concurrency,
        description=f"strum: {config.project} ({config.stage})",
        schedules=tuple(
            (rule_name(config, name), schedule.expression, schedule.enabled)
            for name, schedule in sorted(config.schedules.items())
        ),
        event_invoke=event_invoke(config),
    )


def permissions_field(config: Any) -> tuple[bool | tuple[str, ...], tuple[str, ...]]:
    """What the platform's sandbox allows the stage's function: (network, files)."""
    permissions = config.permissions
    return permissions.network, tuple(permissions.files)


def event_invoke(
    config: Any, function_arn_prefix: str = "arn:aws:lambda:us-east-1:000000000000:function:"
) -> tuple[int, int, str | None, str | None] | None:
    """The stage's ``[async]`` settings as the plan compares them (None: AWS's defaults).

    A destination given as a function name becomes ``function_arn_prefix`` + that name
    (by default, the function's ARN on the platform; the AWS target passes its account's).
    """
    settings = config.async_invocation

    def arn(target: str | None) -> str | None:
        if target is None or target.startswith("arn:"):
            return target
        return function_arn_prefix + target

    wanted = (
        settings.retries,
        settings.max_age,
        arn(settings.on_success),
        arn(settings.on_failure),
    )
    return None if wanted == (2, 21600, None, None) else wanted


def rule_name(config: Any, schedule: str) -> str:
    """The platform rule of a schedule: ``<function>-<schedule>`` (the router matches the
    ``-<schedule>`` suffix)."""
    return f"{config.function_name}-{schedule}"


def current_function(api: PlatformLambdaAPI, name: str, alias: str) -> CurrentFunction:
    """What the platform has for the stage's function now."""
    function = api.get_function(name)
    if function is None:
        return CurrentFunction()
    alias_record = api.get_alias(name, alias)
    aliased = None
    if alias_record is not None:
        version = api.get_function(name, alias_record["FunctionVersion"])
        aliased = version["Configuration"] if version else None
    return CurrentFunction(
        latest=function["Configuration"],
        alias=alias_record,
        aliased=aliased,
        url=api.get_url_config(name, alias),
        reserved_concurrency=(function.get("Concurrency") or {}).get(
            "ReservedConcurrentExecutions"
        ),
        schedules=tuple(
            (rule["name"], rule["expression"], rule["enabled"]) for rule in api.get_schedules(name)
        ),
        event_invoke=api.get_event_invoke_config(name, alias) if alias_record else None,
    )


def deploy(
    config: Any, home: Home, report: Reporter, notify: Notify, *, dry_run: bool = False
) -> DeployResult:
    """Package -> plan -> execute for a local stage; idempotent."""
    from strum.deploy.execute import execute

    notes: list[str] = []
    desired = desired_function(config, home, report, notes)
    api = connect(home, notify)
    try:
        current = current_function(api, desired.name, desired.alias)
        steps = plan_deploy(desired, current)
        result = DeployResult(desired.name, desired.alias, steps, None, None, notes, dry_run)
        if dry_run:
            return result
        produced = execute(api, steps, report)
        url = produced.get("url") or (current.url or {}).get("FunctionUrl")
        result.url = url if desired.url else None
        result.version = produced.get("version") or (current.alias or {}).get("FunctionVersion")
        return result
    finally:
        api.close()


def configuration_summary(configuration: dict[str, Any]) -> dict[str, Any]:
    """The status fields both targets read off a function's configuration."""
    from strum.redact import redact_mapping

    return {
        "runtime": configuration.get("Runtime"),
        "memory": configuration.get("MemorySize"),
        "timeout": configuration.get("Timeout"),
        # As deployed, for people to read: secret-looking values are masked.
        "environment": redact_mapping(
            (configuration.get("Environment") or {}).get("Variables") or {}
        ),
        "code_sha256": configuration.get("CodeSha256"),
        "last_modified": configuration.get("LastModified"),
    }


def status(config: Any, home: Home) -> dict[str, Any]:
    """The stage's function as deployed: versions, alias, URL; ``deployed`` False if none."""
    from strum.platform import daemon

    running = daemon.find_running(home)
    base: dict[str, Any] = {
        "function": config.function_name,
        "stage": config.stage,
        "target": "local",
        "platform": running.endpoint if running else None,
    }
    if running is None:
        return {**base, "deployed": False}
    api = PlatformLambdaAPI(running.endpoint)
    try:
        function = api.get_function(config.function_name)
        if function is None:
            return {**base, "deployed": False}
        alias = api.get_alias(config.function_name, config.stage)
        url = api.get_url_config(config.function_name, config.stage)
        versions = [
            v["Version"]
            for v in api.list_versions(config.function_name)
            if v["Version"] != "$LATEST"
        ]
        configuration = function["Configuration"]
        return {
            **base,
            "deployed": True,
            "version": alias["FunctionVersion"] if alias else None,
            "versions": versions,
            "url": url["FunctionUrl"] if url else None,
            **configuration_summary(configuration),
            "schedules": {
                name: {"expression": schedule.expression, "next": _next_fire(schedule.expression)}
                for name, schedule in config.schedules.items()
            },
            "dead_letters": len(api.dead_letters(config.function_name)),
        }
    finally:
        api.close()


def _next_fire(expression: str) -> str | None:
    try:
        from datetime import datetime, timezone

        from strum.schedule import next_fire_times

        fire = next_fire_times(expression, datetime.now(timezone.utc), 1)
        return fire[0].isoformat() if fire else None
    except (ImportError, ValueError):
        return None


def invoke(
    config: Any, home: Home, payload: bytes, *, asynchronous: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Invoke the stage's alias with ``payload``."""
    api = connect(home, lambda message: None, start=False)
    try:
        return api.invoke(
            config.function_name,
            config.stage,
            payload,
            asynchronous=asynchronous,
            tail=not asynchronous,
        )
    finally:
        api.close()


def logs(config: Any, home: Home, since: float | None) -> list[dict[str, Any]]:
    """Log entries of the stage's function since ``since`` (epoch seconds)."""
    api = connect(home, lambda message: None, start=False)
    try:
        return api.logs(config.function_name, since=since)
    finally:
        api.close()


def rollback(config: Any, home: Home, steps_back: int, report: Reporter) -> tuple[str, str]:
    """Point the stage's alias ``steps_back`` published versions back; return (from, to)."""
    api = connect(home, lambda message: None, start=False)
    try:
        alias = api.get_alias(config.function_name, config.stage)
        if alias is None:
            raise DeployError(f"{config.function_name} has no {config.stage} alias; deploy first")
        current = alias["FunctionVersion"]
        published = sorted(
            int(v["Version"])
            for v in api.list_versions(config.function_name)
            if v["Version"].isdigit()
        )
        older = [v for v in published if v < int(current)]
        if len(older) < steps_back:
            raise DeployError(
                f"{config.function_name}:{config.stage} serves version {current}; there are only "
                f"{len(older)} older version(s) to roll back to"
            )
        target = str(older[-steps_back])
        with report(f"moving alias {config.stage} from version {current} to {target}"):
            api.update_alias(config.function_name, config.stage, target)
        return current, target
    finally:
        api.close()


def undeploy(config: Any, home: Home, report: Reporter) -> bool:
    """Remove the stage's function with its versions, alias and URL; False if none existed."""
    api = connect(home, lambda message: None, start=False)
    try:
        if api.get_function(config.function_name) is None:
            return False
        with report(f"removing {config.function_name} (URL, alias, versions, code)"):
            try:
                api.delete_url_config(config.function_name, config.stage)
            except LambdaAPIError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
            api.delete_function(config.function_name)
        if api.get_function(config.function_name) is not None:
            raise DeployError(f"{config.function_name} still exists after deletion")
        return True
    finally:
        api.close()


def dead_letters(
    config: Any, home: Home, request_ids: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The stage's async events that exhausted their retries (payloads decoded to text)."""
    api = connect(home, lambda message: None, start=False)
    try:
        letters = api.dead_letters(config.function_name, request_ids)
    finally:
        api.close()
    for letter in letters:
        letter["payload"] = base64.b64decode(letter["payload"]).decode("utf-8", "replace")
    return letters


def redrive(config: Any, home: Home, request_ids: tuple[str, ...] = ()) -> list[str]:
    """Queue the stage's dead letters (all, or those named) again; the ids queued."""
    api = connect(home, lambda message: None, start=False)
    try:
        return api.redrive(config.function_name, request_ids)
    finally:
        api.close()


def discard(config: Any, home: Home, request_ids: tuple[str, ...] = ()) -> int:
    """Delete the stage's dead letters (all, or those named) for good; how many."""
    api = connect(home, lambda message: None, start=False)
    try:
        return api.discard(config.function_name, request_ids)
    finally:
        api.close()


def manage(config: Any, home: Home, args: list[str]) -> dict[str, Any]:
    """Run a Django management command in the deployed function; its output and exit code."""
    payload = json.dumps({"strum": "manage", "args": args}).encode()
    _, headers, body = invoke(config, home, payload)
    if headers.get("x-amz-function-error"):
        error = json.loads(body)
        raise DeployError(
            f"manage {' '.join(args)} failed: {error.get('errorType')}: {error.get('errorMessage')}"
        )
    result: dict[str, Any] = json.loads(body)
    return result
