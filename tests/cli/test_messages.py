"""Messages that used to mislead: undeploy blocked by an unrelated config error, and
invoke / manage / invoke --path on a stage that is not deployed."""

from __future__ import annotations

from click.testing import CliRunner

from strum.cli import cli
from tests.cli.test_deploy_safety import deploy, served
from tests.cli.test_end_to_end import deployed_url, home  # noqa: F401 - the fixture

APP = 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef index():\n    return "up"\n'


def run(state, *args):
    result = CliRunner().invoke(cli, list(args), env={"STRUM_HOME": str(state), "NO_COLOR": "1"})
    return result.exit_code, result.output


def test_undeploy_needs_only_the_stage_identity(home, tmp_path):  # noqa: F811
    root = tmp_path / "gone"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "strum.toml").write_text('name = "gone"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    code, out = deploy(home, root)
    assert code == 0, out
    assert served(deployed_url(out)) == "up"
    # The config breaks in a way that has nothing to do with which function the stage is.
    (root / "strum.toml").write_text('name = "gone"\napp = "moved:app"\nmemory = 99999\n')
    code, out = run(home, "deploy", "--project", str(root))
    assert code != 0 and "memory" in out  # deploying still refuses, as it must
    code, out = run(home, "undeploy", "--yes", "--project", str(root))
    assert code == 0, out
    assert "the config has problems" in out
    assert "undeploying gone-dev (local) by its name and target alone" in out
    assert "removed gone-dev" in out
    code, out = run(home, "undeploy", "--yes", "--project", str(root))
    assert code == 0 and "gone-dev was not deployed" in out
    # A broken identity is still an error: which function to remove is not known.
    (root / "strum.toml").write_text('name = "not a name!"\napp = "app:app"\n')
    code, out = run(home, "undeploy", "--yes", "--project", str(root))
    assert code != 0
    assert "cannot be part of a Lambda function name" in out


def test_invoke_and_manage_on_a_stage_never_deployed_say_to_deploy(home, tmp_path):  # noqa: F811
    root = tmp_path / "absent"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "strum.toml").write_text('name = "absent"\napp = "app:app"\n')
    project = ["--project", str(root)]
    for command in (["invoke", "--path", "/", *project], ["manage", *project, "--", "migrate"]):
        code, out = run(home, *command)
        assert code == 3, out
        assert "dev is not deployed (absent-dev:dev does not exist on the platform)" in out
        assert "`strum deploy dev` first" in out
        assert "Traceback" not in out and "ResourceNotFound" not in out
