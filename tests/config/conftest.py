"""The ``project`` fixture: a tiny project directory with a config written on demand."""

from __future__ import annotations

import textwrap

import pytest

from tests.config.support import APP


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Write a tiny project (hello.py + a config) and return its directory.

    The working directory is the project, so messages name "pyproject.toml" as a user
    running strum there would see it.
    """
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hello.py").write_text(APP)

    def make(config: str, *, file: str = "pyproject.toml", project_name: str | None = "hello"):
        body = textwrap.dedent(config)
        if file == "pyproject.toml":
            head = f'[project]\nname = "{project_name}"\n\n' if project_name else ""
            body = head + body
        (tmp_path / file).write_text(body)
        return tmp_path

    return make
