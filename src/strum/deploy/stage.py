"""What both targets derive from a stage's config in the same way.

The package to build (``package_spec``, with the manifest the entry router reads), the names
of schedule rules, the ``[async]`` settings as the planners compare them, and the status
fields read off a deployed function's configuration. Pure: no I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.build import PackageSpec
    from strum.build import Target as BuildTarget
    from strum.config import ProjectConfig
    from strum.platform.home import Home

# The settings of one alias's asynchronous invocations, as both planners compare them:
# (retries, max age s, on-success ARN, on-failure ARN).
EventInvoke = tuple[int, int, str | None, str | None]


def manifest_for(config: ProjectConfig) -> dict[str, Any]:
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


def package_spec(
    config: ProjectConfig, target: BuildTarget, home: Home, out_dir: Path | None = None
) -> PackageSpec:
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


def event_invoke(
    config: ProjectConfig,
    function_arn_prefix: str = "arn:aws:lambda:us-east-1:000000000000:function:",
) -> EventInvoke | None:
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


# A version's description carries how its function URL must invoke it: a ``stream = true``
# build answers with the http-integration stream, which a BUFFERED URL cannot map (502),
# and a buffered build answers an envelope a RESPONSE_STREAM URL would serve raw. The URL's
# mode is the URL config's, not the version's, so rollbacks read it back from here.
_STREAM_MARK = " [RESPONSE_STREAM]"


def function_description(config: ProjectConfig) -> str:
    """The description of the stage's function, and so of each version published of it."""
    base = f"strum: {config.project} ({config.stage})"
    return base + _STREAM_MARK if config.stream else base


def version_invoke_mode(configuration: dict[str, Any]) -> str:
    """The invoke mode a published version's URL needs: ``RESPONSE_STREAM`` for a version
    built with ``stream = true``, else ``BUFFERED`` (also for versions deployed before the
    mode was recorded: a streaming one among them is then served BUFFERED, a 502)."""
    description = str(configuration.get("Description") or "")
    return "RESPONSE_STREAM" if description.endswith(_STREAM_MARK) else "BUFFERED"


def rule_name(config: ProjectConfig, schedule: str) -> str:
    """The rule of a schedule: ``<function>-<schedule>`` (the router matches the
    ``-<schedule>`` suffix)."""
    return f"{config.function_name}-{schedule}"


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


def consumers_summary(config: ProjectConfig) -> dict[str, dict[str, Any]]:
    """The stage's event consumers (``[tool.strum.events]``) as ``strum status`` lists
    them: source, handler, where from, how records arrive, and whether it is on."""
    return {
        name: {
            "source": event.source,
            "function": event.function,
            "arn": event.arn,
            "batch": event.batch,
            "batch_size": event.batch_size,
            "enabled": event.enabled,
        }
        for name, event in sorted(config.events.items())
    }
