"""`strum init`: detection confirmed at a prompt, or with --yes; without a terminal, a hint."""

from __future__ import annotations

from click.testing import CliRunner

from strum.cli import cli

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def init(root, *args, answer=None):
    return CliRunner().invoke(cli, ["init", "--project", str(root), *args], input=answer)


def test_init_with_yes_writes_the_config(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    result = init(tmp_path, "--yes")
    assert result.exit_code == 0, result.output
    assert 'app = "app:app"' in (tmp_path / "strum.toml").read_text()


def test_an_answer_on_standard_input_is_taken(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    result = init(tmp_path, answer="y\n")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "strum.toml").exists()


def test_without_a_terminal_or_an_answer_init_says_to_use_yes(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    result = init(tmp_path)
    assert result.exit_code == 2, result.output
    assert "Aborted!" not in result.output
    assert "without a terminal, confirm with `strum init --yes` (it takes app:app)" in result.output
    assert not (tmp_path / "strum.toml").exists()
