"""``strum platform run | start | stop | status | credentials | keys | audit``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from strum.cli.output import Output, parse_duration, secrets
from strum.platform import Home, default_home


def _home(home: str | None) -> Home:
    return Home(Path(home).expanduser() if home else default_home())


home_option = click.option(
    "--home",
    envvar="STRUM_HOME",
    type=click.Path(file_okay=False),
    help="State directory (default ~/.strum).",
)


def tls_options(command: Any) -> Any:
    """``--tls-cert/--tls-key`` or ``--tls-name``: TLS, required to listen off loopback."""
    for option in reversed(
        (
            click.option("--tls-cert", type=click.Path(dir_okay=False), help="PEM certificate."),
            click.option("--tls-key", type=click.Path(dir_okay=False), help="Its PEM key."),
            click.option(
                "--tls-name",
                "tls_names",
                multiple=True,
                help="A name (DNS or IP) to make a self-signed certificate for; repeatable.",
            ),
        )
    ):
        command = option(command)
    return command


def _tls_args(tls_cert: str | None, tls_key: str | None, tls_names: tuple[str, ...]) -> list[str]:
    args = []
    for flag, value in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if value:
            args += [flag, str(Path(value).resolve())]
    for name in tls_names:
        args += ["--tls-name", name]
    return args


@click.group()
def platform() -> None:
    """The embedded serverless platform (Lambda-compatible, one machine)."""


@platform.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help=(
        "Port for the API (0: a free one). Default: $STRUM_PLATFORM_PORT, else `port` in "
        "$STRUM_HOME/platform.toml, else 8700."
    ),
)
@tls_options
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
@click.option(
    "--no-templates",
    is_flag=True,
    help="Start a new interpreter for every cold start instead of forking a template.",
)
@home_option
def run(
    host: str,
    port: int | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_names: tuple[str, ...],
    idle_timeout: float,
    no_sandbox: bool,
    no_templates: bool,
    home: str | None,
) -> None:
    """Run the platform in the foreground (Ctrl-C to stop)."""
    import asyncio
    import logging
    import signal

    from strum.platform import Settings, serve
    from strum.platform.identity import KeyRing
    from strum.redact import install_filter

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from strum.platform import daemon

    state = _home(home)
    if port is None:
        port = daemon.default_port(state)
    # platform.log never shows an issued key's secret or the host's secret-looking variables.
    hidden = secrets()
    if state.keys_file.exists():
        hidden.add([key.secret for key in KeyRing(state.keys_file)])
    install_filter(hidden)
    settings = Settings(
        host=host,
        port=port,
        idle_timeout_s=idle_timeout,
        sandbox=not no_sandbox,
        templates=not no_templates,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_names=tls_names,
    )

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)  # type: ignore[union-attr]
        with contextlib.suppress(asyncio.CancelledError):
            await serve(state, settings)

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
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help=(
        "Port for the API (0: a free one). Default: $STRUM_PLATFORM_PORT, else `port` in "
        "$STRUM_HOME/platform.toml, else 8700."
    ),
)
@tls_options
@click.option("--no-sandbox", is_flag=True, help="Run functions without namespaces or cgroups.")
@click.option(
    "--no-templates",
    is_flag=True,
    help="Start a new interpreter for every cold start instead of forking a template.",
)
@home_option
def start(
    host: str,
    port: int | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_names: tuple[str, ...],
    no_sandbox: bool,
    no_templates: bool,
    home: str | None,
) -> None:
    """Start the platform in the background."""
    from strum.platform import daemon

    state = _home(home)
    tls = tuple(_tls_args(tls_cert, tls_key, tls_names))
    already = daemon.find_running(state)
    running = daemon.start(
        state, host=host, port=port, sandbox=not no_sandbox, templates=not no_templates, tls=tls
    )
    Output().ok(f"platform running at {running.endpoint} (pid {running.pid})")
    Output().info(_dashboard_line(running.endpoint))
    ignored = port is not None or tls or host != "127.0.0.1" or no_sandbox or no_templates
    if already is not None and ignored:
        Output().note(
            "it was already running, so the options given were not applied; "
            "`strum platform stop` first to start it with them"
        )
    details = _status(state, running.endpoint)
    if details.get("tls"):
        Output().info(f"TLS certificate SHA-256 fingerprint: {details['tls']['fingerprint']}")
    for line in _isolation_lines(details):
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
    """Show whether the platform runs, where, and what it runs.

    Exits 3 when no platform runs for the home, and 4 when it runs but can no longer
    start instances (the reasons are printed).
    """

    from strum.platform import daemon

    state = _home(home)
    running = daemon.find_running(state)
    if running is None:
        if as_json:
            click.echo(json.dumps({"running": False}))
        else:
            Output().info(f"no platform is running for {state.root}")
        raise SystemExit(3)
    from strum.cli.platform_listing import function_lines, function_rows

    with _client(state, running.endpoint) as client:
        details = client.platform_status()
        details["functions"] = function_rows(client, details.get("engine", {}), running.endpoint)
    health = details.get("health") or {"healthy": True, "reasons": []}
    if as_json:
        click.echo(json.dumps({"running": True, **details}, indent=2))
    else:
        engine = details.get("engine", {})
        place = f"at {running.endpoint} (pid {running.pid}), home {details['home']}"
        if health["healthy"]:
            Output().ok(f"platform running {place}")
            Output().info(_dashboard_line(running.endpoint))
        else:
            Output().error(f"platform running {place} is UNHEALTHY: it cannot start instances")
            for reason in health["reasons"]:
                Output().error(f"  {reason}")
        for line in _engine_lines(engine):
            Output().info(line)
        for line in function_lines(details["functions"]):
            Output().info(line)
        for line in _isolation_lines(details):
            Output().note(line)
    if not health["healthy"]:
        raise SystemExit(4)


def _dashboard_line(endpoint: str) -> str:
    return (
        f"dashboard: {endpoint}/strum/ (sign in with an access key; "
        "`strum platform credentials` prints the owner's)"
    )


def _running(home: str | None) -> tuple[Home, Any]:
    """This home's running platform, or a clear error saying how to start one."""
    from strum.platform import daemon

    state = _home(home)
    running = daemon.find_running(state)
    if running is None:
        raise click.ClickException(
            f"no platform is running for {state.root}; start one with `strum platform start`"
        )
    return state, running


@platform.command()
@click.option("--json", "as_json", is_flag=True, help="Endpoint, region and keys as JSON.")
@click.option("--env", "as_env", is_flag=True, help="As export lines for a shell.")
@home_option
def credentials(as_json: bool, as_env: bool, home: str | None) -> None:
    """The owner key of this home's platform, for boto3, the AWS CLI and AWS's SDKs.

    It prints the secret: paste it where it is needed, not into logs or tickets.
    """
    from strum.platform.identity import owner_key

    state, running = _running(home)
    owner = owner_key(state.keys_file)
    if owner is None:
        raise click.ClickException(f"{state.keys_file} holds no owner key")
    # What the platform wrote about itself when it started: its region, its certificate.
    details = state.address()
    region = str(details.get("region") or "us-east-1")
    certificate = details.get("tls_certificate")
    values = {
        "AWS_ENDPOINT_URL_LAMBDA": running.endpoint,
        "AWS_ACCESS_KEY_ID": owner.access_key_id,
        "AWS_SECRET_ACCESS_KEY": owner.secret,
        # botocore (boto3, the AWS CLI v1) reads AWS_DEFAULT_REGION; the other SDKs AWS_REGION.
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if certificate:
        values["AWS_CA_BUNDLE"] = certificate
    if as_json:
        click.echo(json.dumps({**values, "Fingerprint": details.get("tls_fingerprint")}, indent=2))
        return
    exports = "\n".join(f"export {name}={value}" for name, value in values.items())
    if as_env:
        click.echo(exports)
        return
    click.echo(f"# strum's platform at {running.endpoint} (home {state.root})\n{exports}\n")
    click.echo("# or, as an AWS CLI / boto3 profile (~/.aws/config):")
    profile = [
        "[profile strum]",
        f"region = {region}",
        f"aws_access_key_id = {owner.access_key_id}",
        f"aws_secret_access_key = {owner.secret}",
        "services = strum-platform",
        "",
        "[services strum-platform]",
        "lambda =",
        f"  endpoint_url = {running.endpoint}",
    ]
    if certificate:
        profile.insert(4, f"ca_bundle = {certificate}")
    click.echo("\n".join(profile))


@platform.group()
def keys() -> None:
    """Access keys this platform issued: create one with a policy, list, revoke."""


@keys.command("create")
@click.argument("name")
@click.option(
    "--policy",
    "policy",
    required=True,
    help="An IAM policy document: JSON, or @FILE to read it from a file.",
)
@click.option("--json", "as_json", is_flag=True, help="The new key as JSON.")
@home_option
def keys_create(name: str, policy: str, as_json: bool, home: str | None) -> None:
    """Issue a key named NAME that may do what its policy allows (the secret is shown once)."""
    document = Path(policy[1:]).read_text() if policy.startswith("@") else policy
    state, running = _running(home)
    with _client(state, running.endpoint) as client:
        key = client.create_key(name, document)
    if as_json:
        click.echo(json.dumps(key, indent=2))
        return
    Output().ok(f"key {key['Name']} created; its secret is shown only now")
    click.echo(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
    click.echo(f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@home_option
def keys_list(as_json: bool, home: str | None) -> None:
    """The keys and their status (never their secrets)."""
    state, running = _running(home)
    with _client(state, running.endpoint) as client:
        listed = client.list_keys()
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    for key in listed:
        click.echo(f"{key['Name']:<24} {key['AccessKeyId']}  {key['Status']}")


@keys.command("revoke")
@click.argument("name_or_id")
@home_option
def keys_revoke(name_or_id: str, home: str | None) -> None:
    """Revoke a key (by name or id): requests signed with it fail from the next one on."""
    state, running = _running(home)
    with _client(state, running.endpoint) as client:
        key = client.revoke_key(name_or_id)
    Output().ok(f"key {key['Name']} ({key['AccessKeyId']}) revoked")


@platform.command()
@click.option("--since", default="1h", show_default=True, help="How far back: 30m, 2h, 1d.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@home_option
def audit(since: str, as_json: bool, home: str | None) -> None:
    """Who called which control-plane operation on what, and whether it was allowed."""
    import time

    state, running = _running(home)
    with _client(state, running.endpoint) as client:
        entries = client.audit(since=time.time() - parse_duration(since))
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry["time"]))
        click.echo(
            f"{stamp}  {entry['decision']:<40} {entry['action']:<34} {entry['resource']}  "
            f"{entry['principal']} ({entry['access_key_id']}) from {entry['source']}"
        )


def _client(state: Home, endpoint: str) -> Any:
    from strum.deploy.local import PlatformLambdaAPI

    return PlatformLambdaAPI.for_home(state, endpoint, timeout=10)


def _status(state: Home, endpoint: str) -> dict[str, Any]:
    with _client(state, endpoint) as client:
        details: dict[str, Any] = client.platform_status()
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
    lines += _template_lines(instances.get("templates") or {})
    return lines


def _template_lines(templates: dict[str, Any]) -> list[str]:
    """How cold starts of Python functions start: forked from templates, or why not."""
    if not templates:
        return []
    if not templates.get("enabled"):
        return [f"cold starts: a new interpreter each - {templates.get('reason')}"]
    listed = templates.get("templates") or []
    lines = [f"cold starts: forked from initialised templates ({len(listed)} running)"]
    for template in listed:
        pss = [kb for kb in template.get("instances_pss_kb") or () if kb is not None]
        if template.get("pss_kb") is not None:
            shares = f", instances {sum(pss) / len(pss) / 1024:.1f} MB each" if pss else ""
            lines.append(
                f"  template {template['function']}:{template['version']}: "
                f"PSS {template['pss_kb'] / 1024:.1f} MB{shares}"
            )
        error = template.get("error")
        if error:
            lines.append(
                f"  template {template['function']}:{template['version']} init failed: "
                f"{error.get('errorType')}: {error.get('errorMessage')}"
            )
    return lines
