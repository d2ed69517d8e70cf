"""The ``strum`` command line: parse, call the library, print. Nothing else lives here.

Errors the library raises on purpose (``StrumError``) are caught in one place, printed
without a traceback (``--debug`` shows it) and turned into their exit code. Nothing the CLI
prints or logs shows a secret value (see ``strum.cli.output.secrets``). Heavy modules
(boto3, aiohttp, the build) are imported inside the commands that need them, so
``strum --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from strum import __version__
from strum.cli.output import Output, secrets
from strum.errors import StrumError

__all__ = ["main"]


class StrumGroup(click.Group):
    """Runs commands with strum's error handling: one place, clean messages, exit codes."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StrumError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                import traceback

                # The traceback too, masked: messages may quote a config's values.
                click.echo(secrets(ctx).redact(traceback.format_exc()).rstrip(), err=True)
            Output(ctx).error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            Output(ctx).error("interrupted")
            ctx.exit(130)


@click.group(cls=StrumGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strum")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Run Python web apps and functions serverless: on AWS Lambda or on one machine.

    Start with `strum init` in your project, then `strum deploy`: without a cloud account
    the app runs on strum's embedded platform and you get a URL.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        import logging

        from strum.redact import install_filter

        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        # Debug logs include request bodies (botocore logs a function's Environment).
        install_filter(secrets(ctx))


def _register() -> None:
    from strum.cli.cache_commands import cache
    from strum.cli.dead_letter_commands import events
    from strum.cli.dev_commands import dev
    from strum.cli.execution_commands import executions
    from strum.cli.log_commands import tail
    from strum.cli.platform_commands import platform
    from strum.cli.project_commands import COMMANDS

    cli.add_command(platform)
    cli.add_command(events)
    cli.add_command(dev)
    cli.add_command(executions)
    for command in COMMANDS:
        cli.add_command(command)
    cli.add_command(tail)
    cli.add_command(cache)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``strum`` console script."""
    try:
        cli.main(args=argv, prog_name="strum", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
