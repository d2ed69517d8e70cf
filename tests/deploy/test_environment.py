"""Declared host variables reach the function through its configuration, nothing else does."""

from __future__ import annotations

from pathlib import Path

from strum.config import load_config
from strum.deploy.environment import function_environment


def stage(tmp_path: Path, permissions: str) -> object:
    (tmp_path / "hello.py").write_text("def app(environ, start_response):\n    return []\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1"\n'
        '[tool.strum]\napp = "hello:app"\nenv = { GREETING = "hi", MODE = "config" }\n'
        f"[tool.strum.permissions]\n{permissions}\n"
    )
    return load_config(tmp_path, None)


def test_declared_variables_are_passed_through_from_the_host(tmp_path: Path) -> None:
    config = stage(tmp_path, 'env = ["DATABASE_URL"]')
    notes: list[str] = []
    host = {"DATABASE_URL": "postgres://db/shop", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "x"}
    assert function_environment(config, notes, host) == (
        ("DATABASE_URL", "postgres://db/shop"),
        ("GREETING", "hi"),
        ("MODE", "config"),
    )
    assert notes == []


def test_a_missing_or_shadowed_variable_is_a_note(tmp_path: Path) -> None:
    config = stage(tmp_path, 'env = ["DATABASE_URL", "MODE"]')
    notes: list[str] = []
    assert function_environment(config, notes, {"MODE": "host"}) == (
        ("GREETING", "hi"),
        ("MODE", "config"),
    )
    assert "DATABASE_URL" in notes[0] and "export DATABASE_URL" in notes[0]
    assert "MODE" in notes[1] and "env wins" in notes[1]
