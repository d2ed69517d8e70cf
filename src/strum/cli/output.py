"""How the CLI talks to people: colour on terminals, plain text when piped, spinners.

``NO_COLOR`` turns colour off; ``click.echo`` already strips styles when output is not a
terminal, so piped output is plain.

Nothing printed here shows a secret: every message passes the invocation's
``SecretFilter`` (``secrets()``), which knows the secret-looking values of the host
environment and, once a command has loaded a stage (``hide_secrets``), of its ``env``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import click

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.redact import SecretFilter


def secrets(ctx: click.Context | None = None) -> SecretFilter:
    """The secret filter of this CLI invocation (made on first use, kept on the root context)."""
    # Imported here: redact needs logging (~7 ms), which `strum --help` should not pay for.
    from strum.redact import SecretFilter, secret_values

    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return SecretFilter(secret_values(os.environ))
    root = ctx.find_root()
    root.ensure_object(dict)
    found = root.obj.get("secrets")
    if not isinstance(found, SecretFilter):
        found = root.obj["secrets"] = SecretFilter(secret_values(os.environ))
    return found


def hide_secrets(env: Mapping[str, str]) -> None:
    """Mask the secret-looking values of ``env`` in everything this invocation prints or logs."""
    from strum.redact import secret_values

    secrets().add(secret_values(env))


class Output:
    """Printing for one command invocation."""

    def __init__(self, ctx: click.Context | None = None) -> None:
        self.color = None if not os.environ.get("NO_COLOR") else False
        self._secrets = secrets(ctx)

    def info(self, message: str) -> None:
        click.echo(self._secrets.redact(message), color=self.color)

    def ok(self, message: str) -> None:
        click.echo(click.style("✓ ", fg="green") + self._secrets.redact(message), color=self.color)

    def note(self, message: str) -> None:
        click.echo(
            click.style(self._secrets.redact(message), fg="yellow"), color=self.color, err=True
        )

    def error(self, message: str) -> None:
        click.echo(
            click.style("error: ", fg="red", bold=True) + self._secrets.redact(message),
            color=self.color,
            err=True,
        )

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """Show a step with a spinner on terminals and its duration when done."""
        message = self._secrets.redact(message)
        started = time.perf_counter()
        spinner = _Spinner(message) if sys.stderr.isatty() and self.color is not False else None
        if spinner is None:
            click.echo(f"… {message}", err=True)
        else:
            spinner.start()
        try:
            yield
        except BaseException:
            if spinner:
                spinner.stop("✗", message)
            raise
        elapsed = time.perf_counter() - started
        done = f"{message} ({elapsed:.1f} s)" if elapsed >= 0.1 else message
        if spinner:
            spinner.stop("✓", done)
        else:
            click.echo(f"✓ {done}", err=True)


class _Spinner:
    """A terminal spinner on a daemon thread (rich would cost ~100 ms of start-up)."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, message: str) -> None:
        import threading

        self.message = message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        index = 0
        while not self._stop.wait(0.08):
            frame = self.FRAMES[index % len(self.FRAMES)]
            sys.stderr.write(f"\r{click.style(frame, fg='cyan')} {self.message}")
            sys.stderr.flush()
            index += 1

    def stop(self, mark: str, message: str) -> None:
        self._stop.set()
        self._thread.join()
        colour = "green" if mark == "✓" else "red"
        sys.stderr.write(f"\r\033[K{click.style(mark, fg=colour)} {message}\n")
        sys.stderr.flush()


def parse_duration(text: str) -> float:
    """``30s``, ``10m``, ``2h``, ``1d`` as seconds (``--since``); a usage error otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]]
    except (KeyError, ValueError, IndexError):
        raise click.BadParameter(f"{text!r} is not a duration like 30s, 10m, 2h or 1d") from None


def show_invocation_start(headers: Mapping[str, str], asynchronous: bool) -> bool:
    """Print what every invoke prints first: ``queued`` for an asynchronous one (True:
    nothing more to show), else the log tail on standard error."""
    import base64

    if asynchronous:
        Output().ok(f"queued (request {headers.get('x-amzn-requestid', '?')})")
        return True
    log = headers.get("x-amz-log-result")
    if log:
        click.echo(base64.b64decode(log).decode("utf-8", "replace").rstrip(), err=True)
    return False
