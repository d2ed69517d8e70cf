"""Finding, starting and stopping the platform that belongs to a ``$STRUM_HOME``.

A running platform records its endpoint and pid in ``platform.json`` under its home; the
CLI reads that file, checks the process is alive and answering, and otherwise starts one in
the background (``strum platform start``), logging to ``platform.log``.
"""

from __future__ import annotations

import os
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from strum.errors import StrumError
from strum.platform.home import Home

HEALTH_PATH = "/strum/v1/health"


class PlatformError(StrumError):
    """The platform could not be found, started or stopped."""

    exit_code = 5


@dataclass(frozen=True)
class Running:
    """A platform that answered: where it listens and which process it is."""

    endpoint: str
    pid: int
    started_at: float


def find_running(home: Home, timeout: float = 2.0) -> Running | None:
    """The platform serving ``home``, if one is running and answering."""
    record = home.address()
    try:
        running = Running(record["endpoint"], int(record["pid"]), float(record["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None
    if not _alive(running.pid) or not healthy(running.endpoint, timeout):
        return None
    return running


def healthy(endpoint: str, timeout: float = 2.0) -> bool:
    """Whether a platform answers its health route at ``endpoint``."""
    # Only liveness is asked here, of the route that is open to anyone: a platform's own
    # self-signed certificate need not be trusted for that.
    context = ssl._create_unverified_context() if endpoint.startswith("https:") else None
    try:
        with urllib.request.urlopen(
            endpoint + HEALTH_PATH, timeout=timeout, context=context
        ) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def platform_environment(host: Mapping[str, str]) -> dict[str, str]:
    """The background platform's environment: the shell's, without its secrets.

    The platform needs no credentials - functions get their environment from their
    configuration (declared pass-throughs are read by the CLI at deploy time) - so AWS
    keys and secret-looking variables stay with the shell that started it.
    """
    from strum.redact import looks_secret

    return {
        name: value
        for name, value in host.items()
        if not looks_secret(name) and not name.startswith(("AWS_SESSION", "AWS_SECRET"))
    }


def default_port(home: Home | None = None) -> int:
    """Where a platform listens unless told otherwise: ``$STRUM_PLATFORM_PORT``, else the
    ``port`` of the home's ``platform.toml`` (``port = 8800``), else 8700."""
    text = os.environ.get("STRUM_PLATFORM_PORT", "").strip()
    if text:
        if not text.isdigit() or int(text) > 65535:
            raise StrumError(
                f"STRUM_PLATFORM_PORT={text!r} is not a port: give a number from 0 to 65535 "
                "(0 picks a free one)"
            )
        return int(text)
    configured = home.settings().get("port") if home is not None else None
    if configured is None:
        return 8700
    if (
        isinstance(configured, bool)
        or not isinstance(configured, int)
        or not (0 <= configured <= 65535)
    ):
        raise StrumError(
            f"port = {configured!r} in {home.settings_file if home else 'platform.toml'} is "
            "not a port: give a number from 0 to 65535 (0 picks a free one)"
        )
    return configured


def start(
    home: Home,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    wait: float = 20.0,
    sandbox: bool = True,
    templates: bool = True,
    tls: tuple[str, ...] = (),
) -> Running:
    """Start a platform for ``home`` in the background and wait until it answers.

    ``port`` defaults to ``default_port(home)``; 0 picks a free one.
    """
    if port is None:
        port = default_port(home)
    running = find_running(home)
    if running is not None:
        return running
    home.ensure()
    command = [
        sys.executable,
        "-m",
        "strum",
        "platform",
        "run",
        "--home",
        str(home.root),
        "--host",
        host,
        "--port",
        str(port),
    ]
    if not sandbox:
        command.append("--no-sandbox")
    if not templates:
        command.append("--no-templates")
    # The TLS options of `strum platform run` (--tls-cert F, --tls-name N, ...), as given.
    command.extend(tls)
    env = platform_environment(os.environ)
    home.address_file.unlink(missing_ok=True)
    log = os.open(home.logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        # posix_spawn, not Popen: the platform outlives this process, and a Popen object
        # that is never waited for is reported as a leak when it is garbage-collected.
        pid = os.posix_spawn(
            sys.executable,
            command,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log, 1),
                (os.POSIX_SPAWN_DUP2, log, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(log)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        exited, status = _reap(pid)
        if exited:
            raise PlatformError(
                f"the platform exited with status {os.waitstatus_to_exitcode(status)} while "
                f"starting; see {home.logfile}:\n{_log_tail(home)}"
            )
        running = find_running(home, timeout=0.5)
        if running is not None:
            return running
        time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)
    raise PlatformError(f"the platform did not answer within {wait:.0f} s; see {home.logfile}")


def _reap(pid: int) -> tuple[bool, int]:
    """``(exited, wait status)`` for a platform this process started; reaps it if it exited."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (started by another strum command)
        return False, 0
    return done == pid, status


def stop(home: Home, wait: float = 20.0) -> bool:
    """Stop the platform of ``home``; False when none was running."""
    try:
        pid = int(home.pidfile.read_text().strip())
    except (OSError, ValueError):
        return False
    if not _alive(pid):
        home.pidfile.unlink(missing_ok=True)
        home.address_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _reap(pid)[0] or not _alive(pid) or _zombie(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    home.pidfile.unlink(missing_ok=True)
    home.address_file.unlink(missing_ok=True)
    return True


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _log_tail(home: Home, lines: int = 20) -> str:
    try:
        return "\n".join(home.logfile.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
