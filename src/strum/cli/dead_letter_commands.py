"""``strum events dead|redrive|discard``: the stage's asynchronous events that exhausted
their retries (dead letters)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from strum.cli.output import Output
from strum.cli.project_commands import project_option, stage_argument, stage_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.deploy import DeadLetters

ids_option = click.option(
    "--id", "request_ids", multiple=True, metavar="REQUEST_ID", help="Only this event (repeatable)."
)


@click.group()
def events() -> None:
    """Dead letters: async events that exhausted their retries (list, redrive, discard)."""


@events.command()
@stage_argument
@project_option
@ids_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def dead(stage: str | None, project_dir: Path, request_ids: tuple[str, ...], as_json: bool) -> None:
    """List the stage's dead letters, oldest first."""
    config, queue = _dead_letters(project_dir, stage)
    letters = queue.letters(request_ids)
    if as_json:
        click.echo(json.dumps(letters, indent=2))
        return
    out = Output()
    if not letters:
        out.info(f"{config.function_name} has no dead letters")
        return
    for letter in letters:
        failed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(letter["failed_at"]))
        out.info(
            f"{letter['request_id']}  {failed}  {letter['reason']} after "
            f"{letter['attempts']} attempt(s): {_error_summary(letter.get('error'))}"
        )
        out.info(f"    payload {_preview(letter['payload'])}")
    out.info(
        f"{len(letters)} dead letter(s); `strum events redrive` queues them again once the "
        "cause is fixed"
    )


@events.command()
@stage_argument
@project_option
@ids_option
@click.option("--all", "everything", is_flag=True, help="Every dead letter of the stage.")
def redrive(
    stage: str | None, project_dir: Path, request_ids: tuple[str, ...], everything: bool
) -> None:
    """Queue dead letters again, with fresh retries and a fresh age."""
    _one_selection(request_ids, everything)
    config, queue = _dead_letters(project_dir, stage)
    moved = queue.redrive(request_ids)
    _report_missing(request_ids, moved)
    Output().ok(f"queued {len(moved)} event(s) for {config.function_name} again")


@events.command()
@stage_argument
@project_option
@ids_option
@click.option("--all", "everything", is_flag=True, help="Every dead letter of the stage.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def discard(
    stage: str | None,
    project_dir: Path,
    request_ids: tuple[str, ...],
    everything: bool,
    yes: bool,
) -> None:
    """Delete dead letters for good."""
    _one_selection(request_ids, everything)
    config, queue = _dead_letters(project_dir, stage)
    if not yes:
        what = f"{len(request_ids)} dead letter(s)" if request_ids else "every dead letter"
        click.confirm(f"Delete {what} of {config.function_name} for good?", abort=True)
    count = queue.discard(request_ids)
    Output().ok(f"discarded {count} dead letter(s) of {config.function_name}")


def _dead_letters(project_dir: Path, stage: str | None) -> tuple[ProjectConfig, DeadLetters]:
    """The stage's config and dead letters; a usage error where its target has none."""
    from strum.deploy import UnsupportedOnTarget

    target = stage_target(project_dir, stage)
    try:
        return target.config, target.dead_letters()
    except UnsupportedOnTarget as exc:
        raise click.ClickException(str(exc)) from None


def _one_selection(request_ids: tuple[str, ...], everything: bool) -> None:
    if bool(request_ids) == everything:
        raise click.UsageError("say which events: --id REQUEST_ID (repeatable) or --all")


def _report_missing(request_ids: tuple[str, ...], moved: list[str]) -> None:
    missing = sorted(set(request_ids) - set(moved))
    if missing:
        raise click.ClickException(
            f"no dead letter with request id {', '.join(missing)} "
            f"(queued {len(moved)} other(s)); `strum events dead` lists them"
        )


def _error_summary(error: Any) -> str:
    try:
        document = json.loads(error)
        return f"{document.get('errorType')}: {document.get('errorMessage')}"
    except (TypeError, ValueError, AttributeError):
        return str(error)[:200]


def _preview(payload: str, width: int = 100) -> str:
    return payload if len(payload) <= width else payload[: width - 3] + "..."
