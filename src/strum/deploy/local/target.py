"""The local target: config + build + strum's platform, end to end.

``LocalTarget`` serves one resolved stage and talks to the platform of its ``Home`` through
``PlatformLambdaAPI`` only. The function of a stage is ``<project>-<stage>``; its alias is
the stage name; its URL serves the alias, so a deploy or a rollback is one atomic alias move.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from strum.deploy.environment import function_environment
from strum.deploy.errors import DeployError, NotDeployed, PlatformNotRunning
from strum.deploy.local.client import LambdaAPIError, PlatformLambdaAPI
from strum.deploy.local.plan import CurrentFunction, DesiredFunction, plan_deploy
from strum.deploy.locking import stage_lock
from strum.deploy.stage import (
    configuration_summary,
    consumers_summary,
    event_invoke,
    function_description,
    package_spec,
    rule_name,
)
from strum.deploy.target import (
    DeadLetters,
    DeployResult,
    Invocation,
    LogTail,
    Notify,
    Packaged,
    Reporter,
    build_stage,
    manage_command,
    move_alias_back,
    rollback_version,
)
from strum.platform.home import Home

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.build import Artifact
    from strum.config import ProjectConfig


def connect(home: Home, notify: Notify, *, start: bool = True) -> PlatformLambdaAPI:
    """An API client for the platform of ``home``, starting the platform if asked."""
    from strum.platform import daemon

    running = daemon.find_running(home)
    if running is None:
        if not start:
            raise PlatformNotRunning(
                f"no strum platform is running for {home.root}, so the stage cannot be read "
                "or invoked; `strum platform start` starts it (`strum deploy` does too)"
            )
        notify(f"starting strum's platform (state in {home.root}) ...")
        running = daemon.start(home)
        notify(f"platform running at {running.endpoint}")
    return PlatformLambdaAPI.for_home(home, running.endpoint)


def desired_function(
    config: ProjectConfig, home: Home, report: Reporter, notes: list[str]
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
        layer = dependency_layer(artifact, cache)
    notes.extend(artifact.notes)
    return DesiredFunction(
        name=config.function_name,
        alias=config.stage,
        runtime=f"python{target.python}",
        code_sha256=base64.b64encode(bytes.fromhex(artifact.code_sha256)).decode(),
        zip_path=artifact.code_zip,
        layer_name=f"{config.project}-deps" if layer else None,
        layer_zip=layer[0] if layer else None,
        layer_marker=f"strum deps sha256:{layer[1]}" if layer else "",
        layer_sha256=layer[1] if layer else None,
        memory=config.memory,
        timeout=config.timeout,
        ephemeral_storage=config.ephemeral_storage,
        environment=function_environment(config, notes),
        permissions=permissions_field(config),
        url=config.url,
        invoke_mode="RESPONSE_STREAM" if config.stream else "BUFFERED",
        reserved_concurrency=config.reserved_concurrency,
        description=function_description(config),
        project=config.project_dir,
        check=config.check,
        schedules=tuple(
            (rule_name(config, name), schedule.expression, schedule.enabled)
            for name, schedule in sorted(config.schedules.items())
        ),
        event_invoke=event_invoke(config),
        file_systems=file_systems(config, home),
        durable=(
            (config.durable.execution_timeout, config.durable.retention_days)
            if config.durable
            else None
        ),
    )


def file_systems(config: ProjectConfig, home: Home) -> tuple[tuple[str, str], ...]:
    """The stage's volumes as the platform of ``home`` names them (its region and
    account, as it wrote them down when it started; its defaults before it first did)."""
    from strum.platform.volumes import volume_arn

    record = home.address()
    region = str(record.get("region") or "us-east-1")
    account = str(record.get("account_id") or "000000000000")
    return tuple(
        (volume_arn(region, account, volume.name), volume.path) for volume in config.volumes
    )


def stable_url(endpoint: str, config: ProjectConfig) -> str | None:
    """The stage's URL that survives redeploys, undeploys and restarts:
    ``http://<stage>.<project>.localhost:<platform port>/`` (``strum.platform.hostnames``);
    None where ``*.localhost`` does not reach the platform (it listens elsewhere, or TLS)."""
    from urllib.parse import urlsplit

    from strum.platform import LOOPBACK_HOSTS, stage_url

    parts = urlsplit(endpoint)
    if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS or not parts.port:
        return None
    return stage_url(config.project, config.stage, parts.port)


def dependency_layer(artifact: Artifact, cache: Path) -> tuple[Path, str] | None:
    """The build's dependencies as a layer zip (under ``python/``, which the platform puts
    on ``sys.path``) and its SHA-256 (hex); None for a project without dependencies.

    Cached by the dependency zip's hash: an unchanged lock never rewrites (or re-reads) it.
    """
    if artifact.deps_zip is None or artifact.deps_sha256 is None:
        return None
    from strum.build.zipfiles import Entry, file_sha256, write_zip, zip_entries

    layer_zip = cache / "layers" / f"local-{artifact.deps_sha256[:32]}.zip"
    sha_file = layer_zip.with_suffix(".sha256")
    if not layer_zip.exists() or not sha_file.exists():
        entries = [
            Entry(f"python/{entry.arcname}", data=entry.data, executable=entry.executable)
            for entry in zip_entries(artifact.deps_zip)
        ]
        write_zip(entries, layer_zip)
        sha_file.write_text(file_sha256(layer_zip))
    return layer_zip, sha_file.read_text().strip()


def current_layer(api: PlatformLambdaAPI, desired: DesiredFunction) -> str | None:
    """The ARN of the layer version that already holds ``desired``'s dependencies."""
    if desired.layer_name is None:
        return None
    return api.find_layer_version(desired.layer_name, desired.layer_marker)


def permissions_field(
    config: ProjectConfig,
) -> tuple[bool | tuple[str, ...], tuple[str, ...], dict[str, Any]]:
    """What the platform allows the stage's function: (network, files) for its sandbox,
    and the policy its instances' credentials carry."""
    from strum.deploy.policy import platform_policy, project_uses_tasks

    permissions = config.permissions
    policy = platform_policy(config, uses_tasks=project_uses_tasks(config.project_dir))
    return permissions.network, tuple(permissions.files), policy


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


class LocalTarget:
    """A stage on strum's platform: the platform of ``home``, started by a deploy if needed."""

    def __init__(self, config: ProjectConfig, home: Home) -> None:
        self.config = config
        self.home = home

    @contextmanager
    def _platform(self) -> Iterator[PlatformLambdaAPI]:
        """The running platform's API (never starts one), closed afterwards."""
        api = connect(self.home, lambda message: None, start=False)
        try:
            yield api
        finally:
            api.close()

    def package(self, output: Path | None, report: Reporter) -> Packaged:
        """Build for this machine; with ``output``, the zips are written there."""
        from strum.build import Target

        host = Target.local()
        artifact = build_stage(self.config, host, self.home, report, output)
        if output is not None and artifact.deps_zip is not None:
            output.mkdir(parents=True, exist_ok=True)
            named = artifact.deps_sha256[:20] if artifact.deps_sha256 else "none"
            layer = output / f"layer-{named}.zip"
            if not layer.exists():
                layer.write_bytes(artifact.deps_zip.read_bytes())
        return Packaged(host, artifact)

    def deploy(self, report: Reporter, notify: Notify, *, dry_run: bool = False) -> DeployResult:
        """Package -> plan -> execute for a local stage; idempotent."""

        from strum.build import cache_in_use

        notes: list[str] = []
        # The cache is held from the build until the code is uploaded: no prune removes it.
        with (
            stage_lock(self.home.root, self.config.function_name, notify),
            cache_in_use(self.home.root / "cache"),
        ):
            return self._deploy(report, notify, notes, dry_run=dry_run)

    def _deploy(
        self, report: Reporter, notify: Notify, notes: list[str], *, dry_run: bool
    ) -> DeployResult:
        from strum.deploy.local.execute import execute

        desired = desired_function(self.config, self.home, report, notes)
        api = connect(self.home, notify)
        try:
            current = current_function(api, desired.name, desired.alias)
            desired = replace(desired, layer_arn=current_layer(api, desired))
            steps = plan_deploy(desired, current)
            if steps and desired.layer_arn is not None:
                version = desired.layer_arn.rsplit(":", 1)[-1]
                notes.append(
                    f"dependency layer {desired.layer_name} unchanged: reusing version {version}"
                )
            result = DeployResult(desired.name, desired.alias, steps, None, None, notes, dry_run)
            if dry_run:
                return result
            produced = execute(api, steps, report)
            url = produced.get("url") or (current.url or {}).get("FunctionUrl")
            if desired.url and url:
                result.url = stable_url(api.endpoint, self.config) or url
                result.direct_url = url if result.url != url else None
            result.version = produced.get("version") or (current.alias or {}).get("FunctionVersion")
            return result
        finally:
            api.close()

    def status(self) -> dict[str, Any]:
        """The stage's function as deployed: versions, alias, URL; ``deployed`` False if none."""
        from strum.platform import daemon

        config = self.config
        running = daemon.find_running(self.home)
        base: dict[str, Any] = {
            "function": config.function_name,
            "stage": config.stage,
            "target": "local",
            "platform": running.endpoint if running else None,
        }
        if running is None:
            raise PlatformNotRunning(
                f"no strum platform is running for {self.home.root}, so what {config.stage} "
                "has deployed cannot be read; `strum platform start` starts it (`strum deploy` "
                "does too)"
            )
        api = PlatformLambdaAPI.for_home(self.home, running.endpoint)
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
            direct = url["FunctionUrl"] if url else None
            return {
                **base,
                "deployed": True,
                "version": alias["FunctionVersion"] if alias else None,
                "versions": versions,
                "url": (stable_url(running.endpoint, config) or direct) if direct else None,
                "direct_url": direct,
                **configuration_summary(function["Configuration"]),
                "schedules": {
                    name: {
                        "expression": schedule.expression,
                        "next": _next_fire(schedule.expression),
                    }
                    for name, schedule in config.schedules.items()
                },
                # The platform has no queues or streams of its own to read from: a consumer
                # runs when `strum invoke --event NAME` delivers its event.
                "consumers": {
                    name: {**consumer, "state": "not connected (no event source on the platform)"}
                    for name, consumer in consumers_summary(config).items()
                },
                "dead_letters": len(api.dead_letters(config.function_name)),
                **_execution_counts(api, config.function_name, function["Configuration"]),
            }
        finally:
            api.close()

    def invoke(self, payload: bytes, *, asynchronous: bool = False) -> Invocation:
        """Invoke the stage's alias with ``payload`` (the log tail comes with a sync call)."""
        name, stage = self.config.function_name, self.config.stage
        with self._platform() as api:
            try:
                return api.invoke(
                    name, stage, payload, asynchronous=asynchronous, tail=not asynchronous
                )
            except LambdaAPIError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                raise NotDeployed(
                    f"{stage} is not deployed ({name}:{stage} does not exist on the platform); "
                    f"`strum deploy {stage}` first"
                ) from None

    def logs(self, since: float, *, text: str | None = None) -> LogTail:
        """The platform's log entries of the stage's function from ``since`` on."""
        return _PlatformLog(self, since, text)

    def rollback(self, steps_back: int, report: Reporter) -> tuple[str, str]:
        """Point the stage's alias ``steps_back`` published versions back; (from, to)."""
        name, stage = self.config.function_name, self.config.stage
        with self._platform() as api:
            alias = api.get_alias(name, stage)
            if alias is None:
                raise DeployError(f"{name} has no {stage} alias; deploy first")
            current = alias["FunctionVersion"]
            published = [str(v["Version"]) for v in api.list_versions(name)]
            target = rollback_version(name, stage, current, published, steps_back)
            version = api.get_function(name, target)
            url = api.get_url_config(name, stage)
            move_alias_back(
                name,
                stage,
                current,
                target,
                configuration=version["Configuration"] if version else {},
                url_mode=str(url.get("InvokeMode") or "BUFFERED").upper() if url else None,
                move_alias=lambda: api.update_alias(name, stage, target),
                set_url_mode=lambda mode: api.update_url_config(name, stage, {"InvokeMode": mode}),
                report=report,
            )
            return current, target

    def undeploy(self, report: Reporter, *, purge_logs: bool = False) -> bool:
        """Remove the stage's function with its versions, alias and URL; False if none existed.

        The platform keeps no logs apart from the function, so ``purge_logs`` changes nothing.
        """
        name = self.config.function_name
        with self._platform() as api:
            if api.get_function(name) is None:
                return False
            with report(f"removing {name} (URL, alias, versions, code)"):
                try:
                    api.delete_url_config(name, self.config.stage)
                except LambdaAPIError as exc:
                    if exc.code != "ResourceNotFoundException":
                        raise
                api.delete_function(name)
            if api.get_function(name) is not None:
                raise DeployError(f"{name} still exists after deletion")
            self._remove_unused_layers(api, report)
            return True

    def _remove_unused_layers(self, api: PlatformLambdaAPI, report: Reporter) -> None:
        """Delete the project's dependency layer versions no function uses any more (the
        project's other stages keep theirs)."""
        layer = f"{self.config.project}-deps"
        versions = [
            version
            for version in api.layer_versions(layer)
            if str(version.get("Description", "")).startswith("strum deps ")
        ]
        if not versions:
            return
        used = api.layers_in_use()
        for version in versions:
            if version["LayerVersionArn"] not in used:
                with report(f"deleting layer {layer} version {version['Version']} (unused)"):
                    api.delete_layer_version(layer, int(version["Version"]))

    def manage(self, args: list[str]) -> dict[str, Any]:
        """Run a Django management command in the deployed function; output and exit code."""
        return manage_command(self, args)

    def dead_letters(self) -> DeadLetters:
        """The platform's dead letters of the stage's function."""
        return _PlatformDeadLetters(self)

    def executions(self) -> list[dict[str, Any]]:
        """The stage's durable executions on the platform, newest first."""
        name = self.config.function_name
        with self._platform() as api:
            try:
                return api.durable_executions(name)
            except LambdaAPIError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                raise NotDeployed(
                    f"{name} is not deployed on the platform; run `strum deploy "
                    f"{self.config.stage}` first"
                ) from None


class _PlatformLog:
    """``strum tail`` on the platform: entries after the last one seen, every half second."""

    def __init__(self, target: LocalTarget, since: float, text: str | None = None) -> None:
        self._target = target
        self.start = since
        self._text = text

    def poll(self, now: float) -> list[dict[str, Any]]:
        with self._target._platform() as api:
            entries = api.logs(self._target.config.function_name, since=self.start)
        for entry in entries:
            self.start = max(self.start, entry["time"] + 1e-6)
        if self._text is not None:
            entries = [entry for entry in entries if self._text in entry["message"]]
        return entries

    def pause(self, entries: list[dict[str, Any]]) -> float:
        return 0.5


class _PlatformDeadLetters:
    """The platform's dead-letter routes for one stage's function."""

    def __init__(self, target: LocalTarget) -> None:
        self._target = target
        self._name = target.config.function_name

    def letters(self, request_ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        with self._target._platform() as api:
            letters = api.dead_letters(self._name, request_ids)
        for letter in letters:
            letter["payload"] = base64.b64decode(letter["payload"]).decode("utf-8", "replace")
        return letters

    def redrive(self, request_ids: tuple[str, ...] = ()) -> list[str]:
        with self._target._platform() as api:
            return api.redrive(self._name, request_ids)

    def discard(self, request_ids: tuple[str, ...] = ()) -> int:
        with self._target._platform() as api:
            return api.discard(self._name, request_ids)


def _execution_counts(
    api: PlatformLambdaAPI, name: str, configuration: dict[str, Any]
) -> dict[str, Any]:
    """A durable function's executions by status (``strum status``); nothing otherwise."""
    if not configuration.get("DurableConfig"):
        return {}
    counts: dict[str, int] = {}
    for execution in api.durable_executions(name):
        counts[execution["Status"]] = counts.get(execution["Status"], 0) + 1
    return {"executions": counts}


def _next_fire(expression: str) -> str | None:
    try:
        from datetime import datetime, timezone

        from strum.schedule import next_fire_times

        fire = next_fire_times(expression, datetime.now(timezone.utc), 1)
        return fire[0].isoformat() if fire else None
    except (ImportError, ValueError):
        return None
