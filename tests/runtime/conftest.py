"""Fixtures: a Runtime API server on a loopback port and function processes against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer


@pytest.fixture
def runtime_api() -> Iterator[RuntimeAPIServer]:
    server = RuntimeAPIServer()
    yield server
    server.close()


@pytest.fixture
def functions(tmp_path: Path, runtime_api: RuntimeAPIServer) -> Iterator[FunctionFactory]:
    factory = FunctionFactory(tmp_path, runtime_api)
    yield factory
    for process in factory.started:
        process.stop()
