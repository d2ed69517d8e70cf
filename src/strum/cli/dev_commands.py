"""``strum dev``: deploy the stage to the local platform, redeploy on every save, show its logs.

The project is watched with ``watchfiles`` (imported only here): a save rebuilds the code zip
and moves the stage's alias to a version that started; a change to pyproject.toml, a lock or
a requirements file reads the config again and rebuilds everything. The function's log lines
are printed as they come, through the target's log reader (the one ``strum tail`` uses).
Ctrl-C puts the stage back as it was before, or keeps the last good version with ``--keep``.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import click

from strum.cli.output import Output
from strum.cli.project_commands import project_option, stage_argument, stage_target

__all__ = ["dev"]

# Directories no save in which is a change to the function.
_IGNORED_DIRS = ("dist", "build", ".strum", "node_modules", ".tox", ".nox")


@click.command()
@stage_argument
@project_option
@click.option("--keep", is_flag=True, help="On Ctrl-C keep the last version instead of restoring.")
def dev(stage: str | None, project_dir: Path, keep: bool) -> None:
    """Deploy the stage locally, redeploy on every save and stream its logs; Ctrl-C restores.

    A save that cannot start (a syntax or import error) is shown here with its file and line,
    and the previous code keeps serving.
    """
    from strum.deploy import DeployError
    from strum.deploy.local import DevSession, LocalTarget, touches_dependencies
    from strum.errors import StrumError

    target = stage_target(project_dir, stage)
    if not isinstance(target, LocalTarget):
        raise click.UsageError(
            f"`strum dev` runs a stage on the local platform, and {target.config.stage} targets "
            'AWS; give a local stage (target = "local"), or use `strum deploy` for this one'
        )
    import watchfiles

    out = Output()
    _interrupt_on_termination()
    root = project_dir.resolve()
    session = DevSession(target)
    stop = threading.Event()
    logs: threading.Thread | None = None
    url: str | None = None
    try:
        try:
            url = session.start(out.step, out.info).url
            if url:
                click.echo(url)  # once: every save keeps the same URL
        except DeployError as exc:
            out.error(str(exc))
        logs = threading.Thread(target=_stream_logs, args=(session, stop), daemon=True)
        logs.start()
        watching = False
        for changes in watchfiles.watch(
            root,
            watch_filter=_Filter(root),
            step=30,
            debounce=400,
            stop_event=stop,
            # The first (empty) yield says the watcher is in place: only then say so.
            yield_on_timeout=True,
            rust_timeout=200,
        ):
            if not watching:
                watching = True
                out.info(f"watching {root} for changes (Ctrl-C stops and restores the stage)")
            if not changes:
                continue
            names = sorted({Path(path).name for _, path in changes})
            started = time.perf_counter()
            rebuild = touches_dependencies(names)
            try:
                # A dependency or config file: read the config again (its errors are shown
                # like any other), and the build reinstalls what the lock now says.
                fresh = stage_target(project_dir, stage) if rebuild else None
                result = session.update(_quiet, _ignore, fresh)  # type: ignore[arg-type]
            except (StrumError, ValueError, OSError) as exc:
                # A deploy's advice to run `strum deploy` again: here, saving is the way.
                message = "\n".join(
                    line for line in str(exc).splitlines() if "`strum deploy` again" not in line
                )
                out.error(message)
                out.info("the previous code keeps serving; save again once it is fixed")
                continue
            elapsed = time.perf_counter() - started
            if not result.steps:
                out.info(f"no change to the function ({', '.join(names)})")
                continue
            what = "rebuilt everything" if rebuild else "reloaded"
            out.ok(f"{what} ({', '.join(names)}): version {result.version} in {elapsed:.2f} s")
            if url is None and result.url:
                url = result.url
                click.echo(url)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if logs is not None:
            logs.join(timeout=2)
        try:
            if keep:
                session.keep(out.step)
                out.ok(f"kept {session.name}:{session.alias} at version {session.serving}")
            else:
                session.restore(out.step)
                out.ok(f"{session.name}:{session.alias} is as it was before `strum dev`")
        except KeyboardInterrupt:
            out.error("interrupted while restoring; `strum deploy` brings the stage up to date")


def _interrupt_on_termination() -> None:
    """SIGTERM (an IDE's stop button) and SIGHUP (a closed terminal) end ``dev`` as Ctrl-C
    does: the stage is put back."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, interrupt)


class _Filter:
    """watchfiles' default filter (VCS, caches, editors' swap files) without build outputs."""

    def __init__(self, root: Path) -> None:
        import watchfiles

        self._default = watchfiles.DefaultFilter()
        self._ignored = tuple(str(root / name) for name in _IGNORED_DIRS)

    def __call__(self, change: object, path: str) -> bool:
        if path.startswith(self._ignored):
            return False
        return bool(self._default(change, path))  # type: ignore[arg-type]


def _stream_logs(session: object, stop: threading.Event) -> None:
    """Print the function's log lines as they arrive, until ``stop``."""
    from strum.errors import StrumError

    reader = None
    while not stop.is_set():
        try:
            if reader is None:
                reader = session.target.logs(time.time())  # type: ignore[attr-defined]
            entries = reader.poll(time.time())
        except (StrumError, OSError):
            entries = []
        for entry in entries:
            stamp = time.strftime("%H:%M:%S", time.localtime(entry["time"]))
            message = str(entry["message"]).replace("\r", "\n").rstrip("\n")
            click.echo(f"{stamp} {message}")
        stop.wait(reader.pause(entries) if reader is not None else 0.5)


def _quiet(message: str) -> AbstractContextManager[None]:
    """A save's deploy steps print nothing; one line says how it went."""
    return nullcontext()


def _ignore(message: str) -> None:
    return None
