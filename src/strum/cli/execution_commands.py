"""``strum executions [STAGE]``: the stage's durable executions (Lambda durable functions),
newest first, on either target."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from strum.cli.output import Output
from strum.cli.project_commands import project_option, stage_argument, stage_target


@click.command()
@stage_argument
@project_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def executions(stage: str | None, project_dir: Path, as_json: bool) -> None:
    """List the stage's durable executions, newest first."""
    target = stage_target(project_dir, stage)
    found = target.executions()
    if as_json:
        click.echo(json.dumps(found, indent=2, default=_stamp))
        return
    out = Output()
    name = target.config.function_name
    if not found:
        out.info(f"{name} has no durable executions")
        return
    for execution in found:
        ended = execution.get("EndTimestamp")
        out.info(
            f"{execution['DurableExecutionName']}  {execution['Status']:<9}  started "
            f"{_stamp(execution['StartTimestamp'])}"
            + (f", ended {_stamp(ended)}" if ended is not None else "")
        )
        out.info(f"    {execution['DurableExecutionArn']}")
    running = sum(1 for execution in found if execution["Status"] == "RUNNING")
    out.info(f"{len(found)} execution(s) of {name}, {running} running")


def _stamp(value: Any) -> str:
    """A timestamp as the platform (epoch seconds) or boto3 (datetime) answers it."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromtimestamp(float(value)).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")
