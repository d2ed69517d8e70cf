"""How the CLI talks to people: colour on terminals, plain text when piped, spinners.

``NO_COLOR`` turns colour off; ``click.echo`` already strips styles when output is not a
terminal, so piped output is plain.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click


class Output:
    """Printing for one command invocation."""

    def __init__(self, ctx: click.Context | None = None) -> None:
        self.color = None if not os.environ.get("NO_COLOR") else False

    def info(self, message: str) -> None:
        click.echo(message, color=self.color)

    def ok(self, message: str) -> None:
        click.echo(click.style("✓ ", fg="green") + message, color=self.color)

    def note(self, message: str) -> None:
        click.echo(click.style(message, fg="yellow"), color=self.color, err=True)

    def error(self, message: str) -> None:
        click.echo(
            click.style("error: ", fg="red", bold=True) + message, color=self.color, err=True
        )

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """Show a step with a spinner on terminals and its duration when done."""
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
