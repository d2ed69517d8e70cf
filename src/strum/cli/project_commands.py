"""Project commands: init, package, deploy, template, status, invoke, rollback, undeploy,
manage (``tail`` is in ``log_commands``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from strum.cli.output import Output, show_invocation_start

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.deploy import Target
    from strum.platform import Home

stage_argument = click.argument("stage", required=False)
project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="The project directory.",
)


def load_stage(project_dir: Path, stage: str | None) -> ProjectConfig:
    """The stage's config, its ``env`` values masked in everything printed from here on."""
    from strum.cli.output import hide_secrets
    from strum.config import load_config

    config = load_config(project_dir.resolve(), stage)
    hide_secrets(config.env)  # from here on, nothing printed or logged shows them
    return config


def platform_home() -> Home:
    """The ``$STRUM_HOME`` of this invocation: the build cache and the local platform."""
    from strum.platform import Home, default_home

    return Home(default_home())


def stage_target(project_dir: Path, stage: str | None) -> Target:
    """The target that serves the stage (``strum.deploy.target_for``)."""
    from strum.deploy import target_for

    return target_for(load_stage(project_dir, stage), platform_home())


@click.command()
@project_option
@click.option("--yes", is_flag=True, help="Accept the detected app without asking.")
@click.option("--force", is_flag=True, help="Overwrite an existing [tool.strum] / strum.toml.")
def init(project_dir: Path, yes: bool, force: bool) -> None:
    """Detect the app (or, without one, the plain functions) and write strum's config."""
    from strum.detect import detect_apps, write_config

    out = Output()
    candidates = detect_apps(project_dir.resolve())
    if not candidates:
        _init_functions(project_dir.resolve(), yes, force, out)
        return
    chosen = candidates[0]
    try:
        if len(candidates) > 1 and not yes:
            for index, candidate in enumerate(candidates, 1):
                out.info(f"  {index}. {candidate.app}  ({candidate.reason})")
            number = click.prompt("Which app?", type=click.IntRange(1, len(candidates)), default=1)
            chosen = candidates[number - 1]
        elif not yes and not click.confirm(f"Use {chosen.app} ({chosen.reason})?", default=True):
            raise click.Abort()
    except click.Abort:
        if sys.stdin.isatty():
            raise
        # No one answered (CI, a script, an empty pipe): say how to go without a prompt.
        raise click.UsageError(
            f"found {', '.join(c.app for c in candidates)} but no answer to the question; "
            f"without a terminal, confirm with `strum init --yes` (it takes {chosen.app})"
        ) from None
    path = write_config(project_dir.resolve(), chosen, force=force)
    out.ok(f"wrote the config for {chosen.app} to {path}")
    if chosen.kind == "django":
        from strum.django_setup import prepare_django

        for change in prepare_django(project_dir.resolve(), chosen.app):
            out.ok(change)
        out.info("next: `strum deploy`, then `strum manage -- migrate` creates the database")
        out.info(
            "on AWS: give the stage a real database (DATABASES), or an EFS access point as "
            "its volume inside a vpc (see the comments in the config)"
        )
        return
    out.info("next: `strum deploy` puts it on the local platform and prints its URL")


def _init_functions(project_dir: Path, yes: bool, force: bool, out: Output) -> None:
    """``strum init`` for a project of plain functions (handlers and ``@task``s)."""
    from strum.detect import write_config
    from strum.detect_functions import detect_functions, render_functions_config

    functions = detect_functions(project_dir)
    if not functions:
        raise click.ClickException(
            "found no WSGI/ASGI app (Flask, Django, FastAPI, Starlette, ...) and no plain "
            f"functions (`def handler(event, context)` or `@task`) in {project_dir}; write "
            "[tool.strum] app = 'module:app' in pyproject.toml, or add a handler and run "
            "`strum init` again"
        )
    names = ", ".join(f.reference for f in functions)
    if not yes:
        try:
            if not click.confirm(f"No web app; set up the plain functions {names}?", default=True):
                raise click.Abort()
        except click.Abort:
            if sys.stdin.isatty():
                raise
            raise click.UsageError(
                f"found the plain functions {names} but no answer to the question; without a "
                "terminal, confirm with `strum init --yes`"
            ) from None

    def render(in_pyproject: bool) -> str:
        return render_functions_config(functions, in_pyproject=in_pyproject)

    path = write_config(project_dir, render, force=force)
    out.ok(f"wrote the config for {len(functions)} plain function(s) to {path}")
    out.info("next: give each handler its schedule (or an event source) there, then `strum deploy`")


@click.command()
@stage_argument
@project_option
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Write the zips here."
)
@click.option("--json", "as_json", is_flag=True, help="Print the size report as JSON.")
def package(stage: str | None, project_dir: Path, output: Path | None, as_json: bool) -> None:
    """Build the stage's packages (code zip + dependency layer) without deploying.

    For an AWS stage the report is what ``strum deploy`` uploads: the app's own code, and a
    layer with the dependencies and strum's runtime.
    """
    from strum.build import human

    target = stage_target(project_dir, stage)
    out = Output()
    packaged = target.package(output, out.step)
    artifact, uploads = packaged.artifact, packaged.uploads
    report = artifact.report
    if as_json:
        document = {
            "target": packaged.build_target.key,
            "code_zip": str(artifact.code_zip),
            "deps_zip": str(artifact.deps_zip) if artifact.deps_zip else None,
            "dependency_source": artifact.dependency_source,
            "bytecode": artifact.bytecode,
            **report.as_dict(),
        }
        if uploads is not None:
            document["uploads"] = [
                {"kind": u.kind, "path": str(u.path), "zipped": u.size, "via_s3": u.via_s3}
                for u in uploads
            ]
        click.echo(json.dumps(document, indent=2))
        return
    zipped = report.zipped
    if uploads is not None:
        source = artifact.dependency_source
        what = {
            "code": "the app's files and manifest",
            "layer": f"dependencies (from {source}) and strum's runtime; sent when it changes",
        }
        for upload in uploads:
            via = ", over 50 MB: through S3" if upload.via_s3 else ""
            sent = f"({human(upload.size)}{via})"
            out.info(f"{upload.kind + ':':<6} {upload.path}  {sent} - {what[upload.kind]}")
        zipped = sum(upload.size for upload in uploads)
    else:
        out.info(f"code:         {artifact.code_zip}  ({human(report.code_zipped)})")
        if artifact.deps_zip:
            out.info(
                f"dependencies: {artifact.deps_zip}  ({human(report.deps_zipped)}, from {artifact.dependency_source})"
            )
    out.info(
        f"total {human(zipped)} zipped, {human(report.unzipped)} unzipped, {report.files} files"
    )
    out.info("largest parts:")
    for name, size in report.contributors:
        out.info(f"  {human(size):>10}  {name}")
    for note in artifact.notes:
        out.note(note)


@click.command()
@stage_argument
@project_option
@click.option("--dry-run", is_flag=True, help="Print the plan without changing anything.")
def deploy(stage: str | None, project_dir: Path, dry_run: bool) -> None:
    """Package and deploy the stage; print its URL."""
    target = stage_target(project_dir, stage)
    out = Output()
    started = time.perf_counter()
    result = target.deploy(out.step, out.info, dry_run=dry_run)
    for note in result.notes:
        out.note(note)
    if dry_run:
        if result.plan_basis:
            out.info(f"dry run: {result.plan_basis}")
        if not result.steps:
            out.info(f"{result.function}:{result.alias} is up to date; nothing to do")
        for step in result.steps:
            out.info(f"  would {step.describe()}")
        return
    elapsed = time.perf_counter() - started
    if not result.steps:
        out.ok(f"{result.function}:{result.alias} is up to date; nothing changed ({elapsed:.2f} s)")
    else:
        out.ok(
            f"deployed {result.function}:{result.alias} version {result.version} ({elapsed:.1f} s)"
        )
    if result.direct_url:
        out.info(
            f"also at {result.direct_url} (its own port, for clients that do not resolve *.localhost)"
        )
    if result.url:
        click.echo(result.url)


@click.command()
@stage_argument
@project_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The template file (default: dist/<function>.template.json in the project).",
)
@click.option("--force", is_flag=True, help="Replace an existing template file.")
def template(stage: str | None, project_dir: Path, output: Path | None, force: bool) -> None:
    """Write the AWS stage as a CloudFormation template, with its zips; no AWS credentials."""
    from strum.aws import write_template

    config = load_stage(project_dir, stage)
    out = Output()
    files = write_template(config, platform_home(), out.step, output, force=force)
    for note in files.notes:
        out.note(note)
    out.ok(f"wrote {files.template}")
    out.info(f"code:  {files.code_zip}")
    if files.layer_zip:
        out.info(f"layer: {files.layer_zip}")
    out.info("to deploy it (BUCKET: an S3 bucket in the stack's region):")
    click.echo(" && \\\n".join(files.commands))


@click.command()
@stage_argument
@project_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(stage: str | None, project_dir: Path, as_json: bool) -> None:
    """Show what is deployed for the stage."""
    state = stage_target(project_dir, stage).status()
    if as_json:
        click.echo(json.dumps(state, indent=2))
        return
    out = Output()
    if not state["deployed"]:
        where = state["platform"] or "no platform running"
        out.info(f"{state['function']} ({state['stage']}) is not deployed ({where})")
        return
    rows = [
        ("function", state["function"]),
        ("stage", f"{state['stage']} -> version {state['version']}"),
        ("url", state["url"] or "-"),
        *([("also at", state["direct_url"])] if state.get("direct_url") else []),
        ("runtime", f"{state['runtime']}, {state['memory']} MB, {state['timeout']} s timeout"),
        ("env", ", ".join(f"{k}={v}" for k, v in (state.get("environment") or {}).items()) or "-"),
        ("versions", ", ".join(state["versions"]) or "-"),
        ("updated", state["last_modified"]),
        ("platform", state["platform"]),
    ]
    for name, schedule in state["schedules"].items():
        rows.append(
            (f"schedule {name}", f"{schedule['expression']} next {schedule['next'] or '-'}")
        )
    for name, consumer in (state.get("consumers") or {}).items():
        batch = "one record a call" if consumer["batch"] == "record" else "the whole batch"
        where = f" from {consumer['arn']}" if consumer.get("arn") else ""
        off = "" if consumer.get("enabled", True) else ", disabled"
        rows.append(
            (
                f"consumer {name}",
                f"{consumer['source']}{where} -> {consumer['function']} ({batch}{off}); "
                f"{consumer.get('state') or '-'}",
            )
        )
    if state["dead_letters"]:
        rows.append(("dead letters", f"{state['dead_letters']} (`strum events dead` lists them)"))
    if "executions" in state:
        counts = state["executions"]
        summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
        rows.append(("executions", f"{summary or 'none'} (`strum executions` lists them)"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        out.info(f"{name:<{width}}  {value}")


@click.command()
@stage_argument
@project_option
@click.option("--payload", help="The event, as JSON.")
@click.option(
    "--file",
    "payload_file",
    type=click.File("rb"),
    help="Read the event from a file ('-' for stdin).",
)
@click.option(
    "--async", "asynchronous", is_flag=True, help="Queue the event (InvocationType=Event)."
)
@click.option(
    "--event",
    "event_kind",
    metavar="KIND|NAME",
    help="Wrap the payload in a real event: sqs, sns, s3, eventbridge, kinesis, dynamodb, "
    "or the name of a [tool.strum.events] entry (its source ARN is used).",
)
@click.option("--path", "http_path", help="Call the web app: an HTTP request to this path.")
@click.option("--method", default="GET", show_default=True, help="With --path: the method.")
@click.option(
    "--header", "header_args", multiple=True, metavar="NAME:VALUE", help="With --path; repeatable."
)
@click.option(
    "--data", "http_data", help="With --path: the request body, or @FILE to read it from a file."
)
def invoke(
    stage: str | None,
    project_dir: Path,
    payload: str | None,
    payload_file: Any,
    asynchronous: bool,
    event_kind: str | None,
    http_path: str | None,
    method: str,
    header_args: tuple[str, ...],
    http_data: str | None,
) -> None:
    """Invoke the stage's function with an event and print the result and its log.

    With --event the payload becomes what that source delivers: `strum invoke --event sqs
    --payload '[{"id": 1}, {"id": 2}]'` sends an SQS batch of two messages. With --path the
    web app gets the request a function URL would send it: `strum invoke --path /api
    --method POST --header 'Content-Type: application/json' --data '{"n": 1}'`.
    """

    if http_path is not None:
        if payload is not None or payload_file is not None or event_kind is not None:
            raise click.UsageError("--path builds the event itself: drop --payload/--file/--event")
        from strum.cli.http_invoke import invoke_http

        target = stage_target(project_dir, stage)
        invoke_http(target, http_path, method, header_args, http_data, asynchronous)
        return
    if payload is not None and payload_file is not None:
        raise click.UsageError("give --payload or --file, not both")
    data = (
        payload.encode()
        if payload is not None
        else (payload_file.read() if payload_file else b"{}")
    )
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise click.UsageError(f"the event is not valid JSON: {exc}") from None
    target = stage_target(project_dir, stage)
    if event_kind is not None:
        data = json.dumps(_wrap_event(target.config, event_kind, document)).encode()
    _status_code, headers, body = target.invoke(data, asynchronous=asynchronous)
    if show_invocation_start(headers, asynchronous):
        return
    click.echo(body.decode("utf-8", "replace"))
    if headers.get("x-amz-function-error"):
        sys.exit(1)


def _wrap_event(config: ProjectConfig, wanted: str, payload: Any) -> dict[str, Any]:
    """``payload`` inside the event ``wanted`` (a kind, or a configured consumer's name)."""
    from strum.events import KINDS, EventShapeError, build_event

    configured = config.events.get(wanted)
    if configured is not None:
        kind, arn = configured.source, configured.arn
    elif wanted in KINDS:
        kind = wanted
        arn = next((e.arn for e in config.events.values() if e.source == kind and e.arn), None)
    else:
        names = ", ".join(sorted(config.events)) or "none configured"
        raise click.BadParameter(
            f"{wanted!r} is neither an event kind ({', '.join(KINDS)}) nor a "
            f"[tool.strum.events] entry ({names})",
            param_hint="--event",
        )
    try:
        return build_event(kind, payload, arn=arn, region=config.region or "us-east-1")
    except EventShapeError as exc:
        raise click.BadParameter(str(exc), param_hint="--payload") from None


@click.command()
@stage_argument
@project_option
@click.option(
    "-n",
    "steps_back",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Versions to go back.",
)
def rollback(stage: str | None, project_dir: Path, steps_back: int) -> None:
    """Point the stage back at an earlier version (atomic)."""
    target = stage_target(project_dir, stage)
    config = target.config
    out = Output()
    before, after = target.rollback(steps_back, out.step)
    out.ok(f"{config.function_name}:{config.stage} now serves version {after} (was {before})")


@click.command()
@stage_argument
@project_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--purge-logs", is_flag=True, help="AWS: delete the CloudWatch log group too.")
def undeploy(stage: str | None, project_dir: Path, yes: bool, purge_logs: bool) -> None:
    """Remove everything the stage's deploys created."""
    from strum.config import load_identity
    from strum.deploy import target_for
    from strum.errors import ConfigError

    out = Output()
    try:
        target = stage_target(project_dir, stage)
    except ConfigError as exc:
        # Removing a stage needs only which function it is and where: a mistake elsewhere
        # in the file must not keep it deployed.
        identity = load_identity(project_dir.resolve(), stage)
        out.note(
            f"the config has problems ({str(exc).splitlines()[0].rstrip(':')}); undeploying "
            f"{identity.function_name} ({identity.target}) by its name and target alone"
        )
        target = target_for(identity, platform_home())
    config = target.config
    if not yes:
        click.confirm(
            f"Remove {config.function_name} with all its versions and its URL?", abort=True
        )
    removed = target.undeploy(out.step, purge_logs=purge_logs)
    if removed:
        out.ok(f"removed {config.function_name}")
    else:
        out.info(f"{config.function_name} was not deployed")


class _AfterDoubleDash(click.Command):
    """Everything after the first ``--`` is the management command, never the stage."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            split = args.index("--")
            ctx.meta["manage_args"] = args[split + 1 :]
            args = args[:split]
        return super().parse_args(ctx, args)


@click.command(cls=_AfterDoubleDash)
@stage_argument
@project_option
@click.pass_context
def manage(ctx: click.Context, stage: str | None, project_dir: Path) -> None:
    """Run a Django management command in the deployed function: strum manage [STAGE] -- migrate"""
    args = ctx.meta.get("manage_args") or []
    if not args:
        raise click.UsageError("give the command after --, e.g. strum manage -- migrate")
    result = stage_target(project_dir, stage).manage(list(args))
    if result.get("output"):
        click.echo(result["output"].rstrip())
    if result.get("errors"):
        click.echo(result["errors"].rstrip(), err=True)
    sys.exit(int(result.get("exit_code") or 0))


COMMANDS = [init, package, deploy, template, status, invoke, rollback, undeploy, manage]
