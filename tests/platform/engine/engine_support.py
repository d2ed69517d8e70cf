"""Builders for the engine tests: code directories, specs, and an engine on a fresh home.

The engine is tested on its own (no control API): tests write tiny handler modules or
bootstraps into a directory, describe them with a hand-built ``FunctionSpec`` and call
``Engine.invoke`` on a real engine, whose instances are real processes.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from strum.platform.engine import Engine
from strum.platform.home import Home
from strum.platform.settings import Settings
from strum.platform.spec import FunctionSpec

T = TypeVar("T")

HELLO = "def handler(event, context):\n    return {'hello': event}\n"


def write_code(directory: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name -> text) into ``directory``; ``bootstrap`` is made executable."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name == "bootstrap":
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


def make_spec(code_dir: Path, name: str = "fn", **overrides: Any) -> FunctionSpec:
    spec = FunctionSpec(
        name=name,
        version="$LATEST",
        arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
        handler="app.handler",
        code_sha256="0" * 64,
        code_dir=code_dir,
    )
    return replace(spec, **overrides)


def run_engine(tmp_path: Path, scenario: Callable[[Engine], Awaitable[T]], **settings: Any) -> T:
    """Start an engine on a fresh home, run ``scenario(engine)``, always stop it."""

    async def main() -> T:
        # Sandboxed only where a test asks (sandbox=True): most watch files on the host.
        engine = Engine(Home(tmp_path / "home"), Settings(port=0, **{"sandbox": False, **settings}))
        await engine.start()
        try:
            return await scenario(engine)
        finally:
            await engine.stop()

    return asyncio.run(main())


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``predicate`` on the loop until it is truthy (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)
    return value


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
