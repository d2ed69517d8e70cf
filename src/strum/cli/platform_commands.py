"""``strum platform run | start | stop | status``."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import click

from strum.cli.output import Output, secrets
from strum.platform import Home, default_home


def _home(home: str | None) -> Home:
    return Home(Path(home).expanduser() if home else default_home())


home_option = click.option(
    "--home",
    envvar="STRUM_HOME",
    type=click.Path(file_okay=False),
    help="State directory (default ~/.strum).",
)


@click.group()
def platform() -> None:
    """The embedded serverless platform (Lambda-compatible, one machine)."""


@platform.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port for the API.")
@click.option(
    "--token",
    envvar="STRUM_PLATFORM_TOKEN",
    help="Bearer token clients must send (required off loopback).",
)
@click.option(
    "--idle-timeout",
    default=300.0,
    show_default=True,
    type=float,
    help="Seconds before an idle instance stops.",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run functions without namespaces or cgroups (rlimits only); for debugging.",
)
@home_option
def run(
    host: str,
    port: int,
    token: str | None,
    idle_timeout: float,
    no_sandbox: bool,
    home: str | None,
) -> None:
    """Run the platform in the foreground (Ctrl-C to stop)."""
    import asyncio
    import logging
    import signal

    from strum.platform import Settings, serve
    from strum.redact import install_filter

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # platform.log never shows the bearer token or the host's secret-looking variables.
    hidden = secrets()
    hidden.add([token] if token else [])
    install_filter(hidden)
    settings = Settings(
        host=host,
        port=port,
        auth_token=token,
        idle_timeout_s=idle_timeout,
        sandbox=not no_sandbox,
    )

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)  # type: ignore[union-attr]
        with contextlib.suppress(asyncio.CancelledError):
            await serve(_home(home), settings)

    try:
        asyncio.run(main())
    except PermissionError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


@platform.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--token", envvar="STRUM_PLATFORM_TOKEN")
@click.option("--no-sandbox", is_flag=True, help="Run functions without namespaces or cgroups.")
@home_option
def start(host: str, port: int, token: str | None, no_sandbox: bool, home: str | None) -> None:
    """Start the platform in the background."""
    from strum.platform import daemon

    state = _home(home)
    running = daemon.start(state, host=host, port=port, token=token, sandbox=not no_sandbox)
    Output().ok(f"platform running at {running.endpoint} (pid {running.pid})")
    for line in _isolation_lines(_status(running.endpoint)):
        Output().note(line)


@platform.command()
@home_option
def stop(home: str | None) -> None:
    """Stop the background platform."""
    from strum.platform import daemon

    if daemon.stop(_home(home)):
        Output().ok("platform stopped")
    else:
        Output().info("no platform was running")


@platform.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@home_option
def status(as_json: bool, home: str | None) -> None:
    """Show whether the platform runs, where, and what it runs."""

    from strum.platform import daemon

    state = _home(home)
    running = daemon.find_running(state)
    if running is None:
        if as_json:
            click.echo(json.dumps({"running": False}))
        else:
            Output().info(f"no platform is running for {state.root}")
        raise SystemExit(3)
    details = _status(running.endpoint)
    if as_json:
        click.echo(json.dumps({"running": True, **details}, indent=2))
        return
    engine = details.get("engine", {})
    Output().ok(
        f"platform running at {running.endpoint} (pid {running.pid}), home {details['home']}"
    )
    for line in _engine_lines(engine):
        Output().info(line)
    for line in _isolation_lines(details):
        Output().note(line)


def _status(endpoint: str) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(endpoint + "/strum/v1/status")
    token = os.environ.get("STRUM_PLATFORM_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        details: dict[str, Any] = json.loads(response.read())
    return details


def _isolation_lines(details: dict[str, Any]) -> list[str]:
    """What the sandbox does not enforce on this machine, and why (nothing when all is)."""
    isolation = details.get("engine", {}).get("instances", {}).get("isolation") or {}
    missing = isolation.get("not_enforced") or {}
    return [f"not enforced - {part}: {why}" for part, why in sorted(missing.items())]


def _engine_lines(engine: dict[str, Any]) -> list[str]:
    """The engine's status as a few readable lines (``--json`` has everything)."""
    instances = engine.get("instances", {})
    lines = [
        f"instances: {instances.get('total', 0)} "
        f"({instances.get('busy', 0)} busy, {instances.get('idle', 0)} idle, "
        f"{instances.get('starting', 0)} starting); "
        f"{instances.get('invocations', 0)} invocations, {instances.get('cold_starts', 0)} cold starts",
        f"limits: {instances.get('max_concurrency', '?')} concurrent, idle instances stop after "
        f"{instances.get('idle_timeout_s', '?')} s",
    ]
    for function, versions in sorted((instances.get("functions") or {}).items()):
        for version, counts in sorted(versions.items()):
            lines.append(
                f"  {function}:{version}  {counts.get('busy', 0)} busy, {counts.get('idle', 0)} idle"
            )
    isolation = instances.get("isolation") or {}
    enforced = [
        label
        for key, label in (
            ("filesystem", "own filesystem view"),
            ("pid_namespace", "own PIDs"),
            ("network_namespace", "no network unless declared"),
            ("cgroups", "memory and process cgroups"),
            ("seccomp", "seccomp filter"),
        )
        if isolation.get(key)
    ]
    if isolation.get("host_uid") == "nobody":
        enforced.append("runs as nobody")
    lines.append("sandbox: " + (", ".join([*enforced, "rlimits"]) if enforced else "rlimits only"))
    return lines
