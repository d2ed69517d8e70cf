"""Where the platform keeps its state: the layout of ``$STRUM_HOME`` (default ``~/.strum``)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strum.errors import StrumError


class HomeInUse(StrumError):
    """Another platform runs on this home; starting a second one would break the first."""

    exit_code = 4


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``path`` whole or not at all: a temporary file of this process, created with
    ``mode`` (private by default), flushed to disk, then renamed over ``path``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def default_home() -> Path:
    """``$STRUM_HOME``, or ``~/.strum``."""
    return Path(os.environ.get("STRUM_HOME") or "~/.strum").expanduser()


@dataclass(frozen=True)
class Home:
    """Paths of one platform's state directory. Several homes can run side by side."""

    root: Path

    @property
    def db(self) -> Path:
        """Functions, versions, aliases, URL configs, concurrency (SQLite, WAL)."""
        return self.root / "platform.db"

    @property
    def logs_db(self) -> Path:
        """Function logs, kept apart so log writes never contend with control writes."""
        return self.root / "logs.db"

    @property
    def queue_db(self) -> Path:
        """The durable queue of asynchronous invocations."""
        return self.root / "queue.db"

    @property
    def code(self) -> Path:
        """Deployment packages by SHA-256 (``<hex>.zip``), written once, never changed."""
        return self.root / "code"

    @property
    def unpacked(self) -> Path:
        """Packages unpacked once per SHA-256 (``<hex>/``), read-only for functions."""
        return self.root / "unpacked"

    @property
    def bytecode(self) -> Path:
        """Compiled bytecode per code version (``PYTHONPYCACHEPREFIX``), outside the code."""
        return self.root / "bytecode"

    @property
    def volumes(self) -> Path:
        """Named volumes (``<name>/``), mounted read-write where functions ask for them."""
        return self.root / "volumes"

    @property
    def identity(self) -> Path:
        """Keys and the session key (``keys.json``, ``session.key``), private to the user."""
        return self.root / "identity"

    @property
    def keys_file(self) -> Path:
        """The access keys the platform issued, the owner's among them (mode 0600)."""
        return self.identity / "keys.json"

    @property
    def session_key_file(self) -> Path:
        """The key that seals instances' session credentials (mode 0600)."""
        return self.identity / "session.key"

    @property
    def audit_db(self) -> Path:
        """Who called which control-plane operation on what, and whether it was allowed."""
        return self.root / "audit.db"

    @property
    def tls(self) -> Path:
        """The certificate the platform made for itself, when it made one."""
        return self.root / "tls"

    @property
    def pidfile(self) -> Path:
        return self.root / "platform.pid"

    @property
    def address_file(self) -> Path:
        """JSON with the running platform's address; the CLI finds the platform through it."""
        return self.root / "platform.json"

    def address(self) -> dict[str, Any]:
        """What the running platform wrote about itself in ``address_file`` (endpoint, pid,
        region, its TLS certificate); {} when there is none, or it cannot be read."""
        try:
            record = json.loads(self.address_file.read_text())
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    @property
    def settings_file(self) -> Path:
        """The home's own settings, written by hand: ``port = 8800``."""
        return self.root / "platform.toml"

    def settings(self) -> dict[str, Any]:
        """What ``platform.toml`` says ({} without one); a broken file is a clear error."""
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on 3.10 only
            import tomli as tomllib

        try:
            text = self.settings_file.read_text()
        except FileNotFoundError:
            return {}
        try:
            found: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise StrumError(f"{self.settings_file} is not valid TOML: {error}") from None
        return found

    @property
    def logfile(self) -> Path:
        """The daemon's own log (``strum platform start``)."""
        return self.root / "platform.log"

    def lock(self) -> int:
        """Take the home's exclusive lock (a file descriptor, held until closed); raise
        ``HomeInUse`` at once, touching nothing, when another platform holds it."""
        import fcntl

        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.root / "platform.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            running = self.address()
            where = f" (pid {running.get('pid')}, at {running.get('endpoint')})" if running else ""
            raise HomeInUse(
                f"a platform already runs for {self.root}{where}; use it, stop it with "
                "`strum platform stop`, or give this one another --home"
            ) from None
        return descriptor

    def ensure(self) -> Home:
        """Create the directories (private to the user) and return self."""
        for path in (self.root, self.code, self.unpacked, self.bytecode, self.identity):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self
