"""``strum tail``: the stage's function log, as both targets record it.

On the platform that is every line the function wrote, the START/END/REPORT lines, and one
access line per Function URL request (``GET /path 200 12.34 ms 153 bytes``); on AWS the
CloudWatch Logs group of the function. ``--filter`` keeps the lines containing a text (on
AWS as a CloudWatch filter pattern). Following ends quietly on Ctrl-C.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from strum.cli.output import parse_duration
from strum.cli.project_commands import project_option, stage_argument, stage_target


@click.command()
@stage_argument
@project_option
@click.option("--since", default="10m", show_default=True, help="How far back: 30s, 10m, 2h, 1d.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option(
    "--filter",
    "text",
    metavar="TEXT",
    help="Only lines containing TEXT (case-sensitive), e.g. --filter ' 500 ' or --filter ERROR.",
)
def tail(stage: str | None, project_dir: Path, since: str, follow: bool, text: str | None) -> None:
    """Print the stage's function logs (with one access line per URL request)."""
    target = stage_target(project_dir, stage)
    start = time.time() - parse_duration(since)
    log = target.logs(start, text=text or None)
    try:
        while True:
            entries = log.poll(time.time())
            for entry in entries:
                stamp = time.strftime("%H:%M:%S", time.localtime(entry["time"]))
                click.echo(f"{stamp} {entry['message']}".replace("\r", "\n"))
            if not follow:
                return
            time.sleep(log.pause(entries))
    except KeyboardInterrupt:
        # Ctrl-C is how following ends: no traceback, no error.
        return
