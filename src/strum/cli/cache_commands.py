"""``strum cache``: the build cache's size and contents; ``strum cache prune`` empties it safely.

The cache is ``$STRUM_HOME/cache`` (``strum.build.cache``): everything in it can be built
again, so pruning only costs the next build time. A prune never removes what a concurrent
build or deploy is using: it waits for them.
"""

from __future__ import annotations

import json
import time

import click

from strum.cli.output import Output, parse_duration
from strum.cli.project_commands import platform_home


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def cache(ctx: click.Context, as_json: bool) -> None:
    """Show the build cache's size and contents (`strum cache prune` removes entries)."""
    if ctx.invoked_subcommand is not None:
        return
    from strum.build import cache_summary, human

    root = platform_home().root / "cache"
    parts = cache_summary(root)
    if as_json:
        document = {
            "path": str(root),
            "size": sum(p.size for p in parts),
            "parts": {
                p.part: {
                    "files": p.files,
                    "size": p.size,
                    "oldest": p.oldest,
                    "newest": p.newest,
                    "description": p.description,
                }
                for p in parts
            },
        }
        click.echo(json.dumps(document, indent=2))
        return
    out = Output()
    total = sum(p.size for p in parts)
    out.info(f"{root}: {human(total)} in {sum(p.files for p in parts)} files")
    for p in parts:
        used = f", last used {_ago(p.newest)}, oldest {_ago(p.oldest)}" if p.files else ""
        out.info(f"  {p.part:<10} {human(p.size):>10}  {p.files} files - {p.description}{used}")
    if total:
        out.info("`strum cache prune` removes entries unused for 30 days (--all: everything)")


@cache.command()
@click.option(
    "--older-than",
    default="30d",
    show_default=True,
    help="Remove entries last used this long ago or more: 12h, 7d, 30d.",
)
@click.option("--all", "everything", is_flag=True, help="Remove every entry.")
def prune(older_than: str, everything: bool) -> None:
    """Remove unused build cache entries (never one a running build or deploy uses)."""
    from strum.build import human, prune_cache

    out = Output()
    root = platform_home().root / "cache"
    removed, freed = prune_cache(
        root,
        older_than=parse_duration(older_than),
        everything=everything,
        waiting=lambda: out.info("a build or deploy is using the cache; waiting for it ..."),
    )
    what = "every entry" if everything else f"entries unused for {older_than}"
    out.ok(f"removed {removed} files ({human(freed)}) from {root}: {what}")


def _ago(moment: float | None) -> str:
    if moment is None:
        return "-"
    seconds = max(0.0, time.time() - moment)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return "just now"
