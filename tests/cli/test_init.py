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


JOBS = """\
from strum import task


def cleanup(event, context):
    return "cleaned"


@task
def send_welcome(user_id):
    return user_id


def _private(event, context):
    return None
"""


def test_init_sets_up_a_project_of_plain_functions(tmp_path):
    from strum.config import load_config

    (tmp_path / "jobs.py").write_text(JOBS)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "jobs"\nversion = "1"\n')
    result = init(tmp_path, "--yes")
    assert result.exit_code == 0, result.output
    assert "wrote the config for 2 plain function(s)" in result.output
    text = (tmp_path / "pyproject.toml").read_text()
    assert "app =" not in text
    assert "jobs:send_welcome  - a @task" in text
    config = load_config(tmp_path)  # what it wrote is a valid config
    assert config.app is None and config.url is False
    schedule = config.schedules["cleanup"]
    assert (schedule.function, schedule.enabled) == ("jobs:cleanup", False)


def test_plain_functions_without_a_terminal_say_to_use_yes(tmp_path):
    (tmp_path / "jobs.py").write_text(JOBS)
    result = init(tmp_path)
    assert result.exit_code == 2, result.output
    assert "found the plain functions jobs:cleanup, jobs:send_welcome" in result.output
    assert not (tmp_path / "strum.toml").exists()


def test_nothing_to_serve_says_what_init_looks_for(tmp_path):
    (tmp_path / "notes.py").write_text("X = 1\n")
    result = init(tmp_path, "--yes")
    assert result.exit_code == 1
    assert "no plain functions (`def handler(event, context)` or `@task`)" in result.output
