"""Reading the config file, checking every layer, merging stages, building the result."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType

from strum.config import _checks as checks
from strum.config import _durable as durable_checks
from strum.config import _tables as tables
from strum.config import _volumes as volume_checks
from strum.config._model import DEFAULT_STAGE, SUPPORTED_PYTHONS, ProjectConfig, StageConfig
from strum.config._problems import (
    INVALID,
    Invalid,
    Problems,
    Where,
    did_you_mean,
    display_path,
    unknown_key,
)
from strum.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

ENV_LIMIT = 4096  # bytes, names and values together, as Lambda counts them
NAME_LIMIT = 64  # Lambda function names and EventBridge rule names

# Keys valid at the top level and in every stage. Plain checks rather than a schema library,
# on purpose: msgspec stops at the first error and words it as "Expected `int`, got `str` -
# at `$.memory`"; pydantic collects them all but costs ~100 ms of import on a CLI with a
# 150 ms budget. Neither knows the fix for "python = 3.10" (a float: 3.1), a reserved env
# name or an arn of the wrong service, and the messages are what this module is for.
KEYS: dict[str, checks.Check] = {
    "app": checks.app,
    "name": checks.project_name,
    "python": checks.python,
    "architecture": checks.architecture,
    "memory": checks.integer(128, 10240, "MB", "memory"),
    "timeout": checks.integer(1, 900, "seconds", "timeout"),
    "ephemeral_storage": checks.integer(512, 10240, "MB", "ephemeral_storage"),
    "env": checks.env,
    "exclude": checks.glob_list("exclude"),
    "include": checks.glob_list("include"),
    "text_mime_types": checks.text_mime_types,
    "base_path": checks.base_path,
    "lifespan": checks.choice("auto", "on", "off"),
    "stream": checks.boolean("stream"),
    "snap_start": checks.boolean("snap_start"),
    "django_settings": checks.django_settings,
    "schedules": tables.schedules,
    "events": tables.events,
    "permissions": tables.permissions,
    "async": tables.async_invocation,
    "reserved_concurrency": checks.integer(0, None, "", "reserved_concurrency"),
    "url": checks.boolean("url"),
    "check": checks.check_path,
    "log_retention_days": checks.log_retention_days,
    "bucket": checks.bucket,
    "volumes": volume_checks.volumes,
    "durable": durable_checks.durable,
}
STAGE_KEYS: dict[str, checks.Check] = {
    "target": checks.choice("local", "aws"),
    "region": checks.region,
    "profile": checks.string,
    "role_arn": checks.role_arn,
    "http_api": checks.boolean("http_api"),
    "domain": checks.domain,
    "vpc": volume_checks.vpc,
}
# Tables a stage merges into key by key.
MERGED_BY_KEY = ("env", "permissions", "async", "volumes", "durable")
MERGED_BY_ENTRY = ("schedules", "events")  # tables merged by entry, then field by field


def load_config(project_dir: Path, stage: str | None = None) -> ProjectConfig:
    """Read, validate and resolve the project's strum config for ``stage`` (default ``dev``).

    Every problem in the file - in every stage, not only the one asked for - is collected
    and raised as one ``ConfigError``. Nothing is imported or run; module references are
    checked by reading the project's files.
    """
    project_dir = Path(project_dir)
    source, table, prefix, project_name = _read(project_dir)
    problems = Problems(source)
    root = Where(problems, prefix, project_dir)
    stage_header = ".".join((*prefix, "stages"))
    top = _check_layer({k: v for k, v in table.items() if k != "stages"}, root, stage_header)
    layers = _stage_layers(table.get("stages", {}), root.at("stages"), stage_header)
    defaults = {
        "name": checks.sanitise_name(project_name or project_dir.resolve().name),
        "python": _default_python(),
    }
    names = list(layers) if DEFAULT_STAGE in layers else [DEFAULT_STAGE, *layers]
    resolved = {name: _build_stage(name, top, layers.get(name), root, defaults) for name in names}
    problems.raise_if_any()
    chosen = stage or DEFAULT_STAGE
    if chosen not in resolved:
        listed = ", ".join(names)
        close = did_you_mean(chosen, names)
        where = f'stage "{chosen}" is not defined in {display_path(source)}'
        raise ConfigError(
            f"{where}{close} (the stages are {listed})"
            if close
            else f"{where}; the stages are {listed}: add [{stage_header}.{chosen}] to create it"
        )
    settings = resolved[chosen]
    values = {field.name: getattr(settings, field.name) for field in fields(settings)}
    return ProjectConfig(
        **values, project_dir=project_dir, source=source, stages=MappingProxyType(resolved)
    )


def _read(project_dir: Path) -> tuple[Path, dict[str, Any], tuple[str, ...], str | None]:
    pyproject, separate = project_dir / "pyproject.toml", project_dir / "strum.toml"
    data = _parse(pyproject) if pyproject.is_file() else {}
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    tool = data.get("tool")
    in_pyproject = isinstance(tool, dict) and "strum" in tool
    if in_pyproject and separate.is_file():
        raise ConfigError(
            f"{pyproject} has a [tool.strum] table and {separate} exists too; strum reads "
            "one: keep [tool.strum] and delete strum.toml, or move the settings into "
            "strum.toml (keys at its top level) and delete [tool.strum]"
        )
    prefix: tuple[str, ...]
    if separate.is_file():
        table, prefix, source = _parse(separate), (), separate
    elif in_pyproject:
        assert isinstance(tool, dict)
        table, prefix, source = tool["strum"], ("tool", "strum"), pyproject
    else:
        raise ConfigError(
            f"no strum config in {project_dir}: add a [tool.strum] table to pyproject.toml "
            "or create strum.toml (`strum init` writes one for the app it finds)"
        )
    if not isinstance(table, dict):
        raise ConfigError(f'{source}: tool.strum must be a table ([tool.strum]), not "{table}"')
    return source, table, prefix, name if isinstance(name, str) else None


def _parse(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}; fix the syntax there") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def _version(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split(".") if part.isdigit())


def _default_python() -> str:
    # The local interpreter's version when Lambda has it; otherwise the nearest it has.
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if version in SUPPORTED_PYTHONS:
        return version
    older = sys.version_info[:2] < tuple(int(p) for p in SUPPORTED_PYTHONS[0].split("."))
    return SUPPORTED_PYTHONS[0] if older else SUPPORTED_PYTHONS[-1]


def _check_layer(table: dict[str, Any], where: Where, stage_header: str) -> dict[str, Any]:
    in_stage = where.path[-2:-1] == ("stages",)
    valid: dict[str, Any] = {}
    for key, value in table.items():
        spot = where.at(key)
        check = KEYS.get(key) or (STAGE_KEYS.get(key) if in_stage else None)
        if check is not None:
            try:
                valid[key] = check(value, spot)
            except Invalid as exc:
                spot.report(str(exc))
                valid[key] = INVALID
        elif key in STAGE_KEYS:
            spot.report(f"{key} is set per stage; move it under [{stage_header}.<name>]")
        elif key == "stages":
            spot.report(f"stages cannot be nested; define each under [{stage_header}.<name>]")
        elif key == "tool" and not where.path:
            spot.report("strum.toml takes its keys at the top level; drop the tool.strum prefix")
        else:
            known = [*KEYS, *(STAGE_KEYS if in_stage else ("stages",))]
            spot.report(unknown_key(key, known))
    return valid


def _stage_layers(value: Any, where: Where, stage_header: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        where.report(f'must be a table of stages, e.g. [{stage_header}.prod] target = "aws"')
        return {}
    layers: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        spot = where.at(name)
        problem = checks.stage_name(name)
        if problem:
            spot.report(problem)
        elif not isinstance(table, dict):
            spot.report(f'must be a table, e.g. [{stage_header}.{name}] target = "local"')
        else:
            layers[name] = _check_layer(table, spot, stage_header)
    return layers


def _build_stage(
    name: str,
    top: dict[str, Any],
    layer: dict[str, Any] | None,
    root: Where,
    defaults: dict[str, str],
) -> StageConfig:
    defined = layer is not None
    layer = layer or {}
    here = root.at("stages", name)

    def at(*keys: str) -> Where:
        # Where a merged value was written, to report it there: the stage if it set the
        # value, else the top level. A schedule or event entry is reported where it is
        # first defined (the top level when both have it), since the stage only amends it.
        layers = ((root, top), (here, layer)) if len(keys) == 2 else ((here, layer), (root, top))
        for base, table in layers:
            if _has(table, keys):
                return base.at(*keys)
        return here if defined else root

    merged, invalid = _merge(top, layer)
    project = merged.get("name", defaults["name"])
    function_name = f"{project}-{name}"
    if len(function_name) > NAME_LIMIT:
        at("name").report(
            f'the function name "{function_name}" is {len(function_name)} characters; Lambda '
            f"allows {NAME_LIMIT}: set a shorter name (or stage name)"
        )
    app, settings = merged.get("app"), merged.get("django_settings")
    if app is not None and ":" not in app:
        if settings is not None and settings != app:
            at("app").report(
                f'app "{app}" is a Django settings module and django_settings = '
                f'"{settings}" differs; keep one of them'
            )
        app, settings = None, app
    serves = app is not None or settings is not None
    url = merged.get("url", serves)
    if url and not serves and not invalid & {"app", "django_settings"}:
        at("url").report("url = true needs something to serve: set app, or remove url")
    check = merged.get("check")
    if check is not None and not serves and not invalid & {"app", "django_settings"}:
        at("check").report(
            f'check = "{check}" needs a web app to send the request to: set app, or remove check'
        )
    variables = merged.get("env", {})
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > ENV_LIMIT:
        at("env").report(
            f"the variables take {size} bytes; Lambda allows {ENV_LIMIT} (4 KB) for all names "
            "and values together: keep large values in a file or a parameter store"
        )
    target = merged.get("target", "local")
    # Refused rather than turning the HTTP API on: that would change the stage's URL, the
    # event its app receives and its bill behind the user's back. Function URLs take no
    # custom domain without a CloudFront distribution in front, which strum does not make.
    if "domain" in merged and not merged.get("http_api") and "http_api" not in invalid:
        at("domain").report(
            f'domain = "{merged["domain"]}" needs the HTTP API (a function URL cannot take a '
            f"custom domain): add http_api = true to [{'.'.join(here.path)}]"
        )
    python = merged.get("python", defaults["python"])
    snap_start = merged.get("snap_start", False)
    # https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html: Python from 3.12.
    if snap_start and target == "aws" and _version(python) < (3, 12):
        at("snap_start").report(
            f"SnapStart for Python needs python 3.12 or later, and this stage deploys python "
            f'{python}: set python = "3.12" (or later), or remove snap_start'
        )
    schedules = {}
    for key, entry in merged.get("schedules", {}).items():
        schedule = tables.build_schedule(key, entry, _entry_at(at, "schedules", key))
        rule = f"{function_name}-{key}"
        if schedule is not None and len(rule) > NAME_LIMIT:
            at("schedules", key).report(
                f'the EventBridge rule name "{rule}" would be {len(rule)} characters; '
                f"EventBridge allows {NAME_LIMIT}: shorten the schedule name"
            )
        elif schedule is not None:
            schedules[key] = schedule
    events = {}
    for key, entry in merged.get("events", {}).items():
        event = tables.build_event(key, entry, _entry_at(at, "events", key), target)
        if event is not None:
            events[key] = event
    return StageConfig(
        stage=name,
        project=project,
        python=python,
        target=target,
        app=app,
        django_settings=settings,
        architecture=merged.get("architecture", "x86_64"),
        memory=merged.get("memory", 512),
        timeout=merged.get("timeout", 30),
        ephemeral_storage=merged.get("ephemeral_storage", 512),
        env=MappingProxyType(dict(variables)),
        exclude=merged.get("exclude", ()),
        include=merged.get("include", ()),
        text_mime_types=merged.get("text_mime_types", ()),
        base_path=merged.get("base_path"),
        lifespan=merged.get("lifespan", "auto"),
        stream=merged.get("stream", False),
        snap_start=snap_start,
        schedules=MappingProxyType(schedules),
        events=MappingProxyType(events),
        permissions=tables.build_permissions(merged.get("permissions", {})),
        async_invocation=tables.build_async(merged.get("async", {}), target, at),
        reserved_concurrency=merged.get("reserved_concurrency"),
        url=bool(url and serves),
        check=check if serves else None,
        log_retention_days=merged.get("log_retention_days"),
        region=merged.get("region"),
        profile=merged.get("profile"),
        role_arn=merged.get("role_arn"),
        http_api=merged.get("http_api", False),
        domain=merged.get("domain"),
        bucket=merged.get("bucket"),
        volumes=volume_checks.build_volumes(merged.get("volumes", {}), target, "vpc" in merged, at),
        vpc=merged.get("vpc"),
        durable=durable_checks.build_durable(merged.get("durable")),
    )


def _entry_at(at: Callable[..., Where], table: str, entry: str) -> Callable[..., Where]:
    """``at`` for one schedule or event entry: ``locate("batch")`` is that field's place."""

    def locate(*keys: str) -> Where:
        return at(table, entry, *keys)

    return locate


def _has(table: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = table
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _merge(top: dict[str, Any], layer: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The stage's layer over the top level, and the keys whose winning value was invalid."""
    merged = dict(top)
    for key, value in layer.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict) and key in MERGED_BY_KEY:
            merged[key] = {**below, **value}
        elif isinstance(value, dict) and isinstance(below, dict) and key in MERGED_BY_ENTRY:
            entries = dict(below)
            for entry, fields in value.items():
                entries[entry] = {**entries.get(entry, {}), **fields}
            merged[key] = entries
        else:
            merged[key] = value
    # A value reported as invalid falls back to the default, so nothing else trips on it;
    # that it was there is returned for the checks that depend on it.
    invalid = {key for key, value in merged.items() if value is INVALID}
    return {key: value for key, value in merged.items() if key not in invalid}, invalid
