"""A version that cannot start is never served: the deploy fails with the user's error and
the fix, the alias stays where it was, and the URL keeps serving the previous version.

Each broken project is a real failure a user hits (issue: deploy safety): a syntax error,
a module the package lacks, an exception at import, an ``app`` that names nothing.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from strum.cli import cli
from tests.cli.test_end_to_end import deployed_url, home  # noqa: F401 - the fixture

APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"served": MARK}
"""


def deploy(state: Path, root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["deploy", "--project", str(root)], env={"STRUM_HOME": str(state), "NO_COLOR": "1"}
    )
    return result.exit_code, result.output


def served(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


@pytest.fixture
def working(home: Path, tmp_path: Path, request: pytest.FixtureRequest):  # noqa: F811
    # One platform serves the module: each test deploys a project of its own name.
    name = "shop" + "".join(c for c in request.node.name if c.isalnum())[-20:]
    root = tmp_path / name
    root.mkdir()
    (root / "app.py").write_text('MARK = "one"\n' + APP)
    (root / "strum.toml").write_text(f'name = "{name}"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    code, out = deploy(home, root)
    assert code == 0, out
    url = deployed_url(out)
    assert served(url) == '{"served":"one"}\n'
    return root, url, name


BROKEN = [
    pytest.param(
        'MARK = "two"\n' + APP.replace("def index():", "def index(:"),
        [
            "Runtime.UserCodeSyntaxError: Syntax error in module 'app'",
            'File "app.py" Line 8',
            "def index(:",
            "fix: correct the syntax at the line shown",
        ],
        id="syntax error",
    ),
    pytest.param(
        'import requestz_not_installed\nMARK = "two"\n' + APP,
        [
            "Runtime.ImportModuleError: Unable to import module 'app': "
            "No module named 'requestz_not_installed'",
            'File "app.py", line 1, in <module>',
            "import requestz_not_installed",
            "fix: `requestz_not_installed` is imported by app.py line 1 but is not in your "
            "dependencies: add it to [project] dependencies in pyproject.toml or to "
            "requirements.txt",
        ],
        id="missing module",
    ),
    pytest.param(
        'MARK = "two"\nraise RuntimeError("the database URL is not set")\n' + APP,
        [
            "RuntimeError: the database URL is not set",
            'File "app.py", line 2, in <module>',
            'raise RuntimeError("the database URL is not set")',
        ],
        id="exception at import",
    ),
]


@pytest.mark.parametrize(("source", "expected"), BROKEN)
def test_a_broken_version_never_serves(home, working, source, expected):  # noqa: F811
    root, url, name = working
    (root / "app.py").write_text(source)
    code, out = deploy(home, root)
    assert code == 7, out
    assert (
        f"version 2 of {name}-dev failed to start, so it serves nothing and the alias dev " in out
    )
    assert "still serves version 1" in out
    missing = [line for line in expected if line not in out]
    assert missing == [], out
    # Strum's own modules are not what the user is told about.
    assert "strum.runtime.entry" not in out
    assert served(url) == '{"served":"one"}\n'
    # Fixed, the next deploy publishes and serves it.
    (root / "app.py").write_text('MARK = "three"\n' + APP)
    code, out = deploy(home, root)
    assert code == 0, out
    assert served(url) == '{"served":"three"}\n'


def test_a_factory_given_as_the_app_says_how_to_name_the_app(home, working):  # noqa: F811
    root, url, name = working
    (root / "strum.toml").write_text(f'name = "{name}"\napp = "app:create_app"\n')
    (root / "app.py").write_text(
        'MARK = "two"\nfrom flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n'
    )
    code, out = deploy(home, root)
    assert code == 7, out
    assert "AppError: cannot tell whether <function create_app" in out
    assert "fix: `app` names the function create_app, not an application - a factory? " in out
    assert "strum/adapter" not in out
    assert served(url) == '{"served":"one"}\n'


def test_two_deploys_of_one_stage_at_once_both_succeed(home, tmp_path):  # noqa: F811
    import os
    import subprocess
    import sys

    root = tmp_path / "twice"
    root.mkdir()
    (root / "app.py").write_text('MARK = "one"\n' + APP)
    (root / "strum.toml").write_text('name = "twice"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    env = dict(os.environ, STRUM_HOME=str(home), NO_COLOR="1")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "strum", "deploy", "--project", str(root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert "Traceback" not in "".join(outputs)
    urls = {deployed_url(output) for output in outputs}
    assert len(urls) == 1
    assert served(urls.pop()) == '{"served":"one"}\n'


def test_with_the_platform_stopped_status_says_so_and_fails(tmp_path):
    root = tmp_path / "idle"
    root.mkdir()
    (root / "app.py").write_text('MARK = "one"\n' + APP)
    (root / "strum.toml").write_text('name = "idle"\napp = "app:app"\n')
    state = tmp_path / "no-platform-here"
    for command in (["status"], ["invoke", "--payload", "{}"]):
        result = CliRunner().invoke(
            cli, [*command, "--project", str(root)], env={"STRUM_HOME": str(state), "NO_COLOR": "1"}
        )
        assert result.exit_code == 3, result.output
        assert f"no strum platform is running for {state}" in result.output
        assert "`strum platform start` starts it" in result.output
        assert "is not deployed" not in result.output


def test_invoking_a_stage_never_deployed_says_to_deploy_it(home, tmp_path):  # noqa: F811
    root = tmp_path / "never"
    root.mkdir()
    (root / "app.py").write_text('MARK = "one"\n' + APP)
    (root / "strum.toml").write_text('name = "never"\napp = "app:app"\n')
    result = CliRunner().invoke(
        cli,
        ["invoke", "--payload", "{}", "--project", str(root)],
        env={"STRUM_HOME": str(home), "NO_COLOR": "1"},
    )
    assert result.exit_code == 3, result.output
    assert "dev is not deployed (never-dev:dev does not exist on the platform)" in result.output
    assert "`strum deploy dev` first" in result.output
    assert "ResourceNotFoundException" not in result.output


def test_invoke_path_calls_the_web_app_like_its_url(home, working):  # noqa: F811
    root, _, _ = working
    (root / "app.py").write_text(
        'MARK = "one"\n'
        + APP
        + """

from flask import request


@app.post("/echo")
def echo():
    return {"got": request.get_json(), "agent": request.headers.get("X-Agent")}, 201
"""
    )
    code, out = deploy(home, root)
    assert code == 0, out

    def strum_invoke(*args):
        result = CliRunner().invoke(
            cli,
            ["invoke", "--project", str(root), *args],
            env={"STRUM_HOME": str(home), "NO_COLOR": "1"},
        )
        return result.exit_code, result.stdout

    code, out = strum_invoke("--path", "/")
    assert code == 0, out
    assert out.startswith("HTTP 200\n")
    assert "content-type: application/json" in out.lower()
    assert out.rstrip().endswith('{"served":"one"}')
    code, out = strum_invoke(
        "--path", "/echo", "--method", "POST",
        "--header", "Content-Type: application/json", "--header", "X-Agent: cli",
        "--data", '{"n": 1}',
    )  # fmt: skip
    assert code == 0, out
    assert out.startswith("HTTP 201\n")
    assert out.rstrip().endswith('{"agent":"cli","got":{"n":1}}')
    code, out = strum_invoke("--path", "/nope")
    assert out.startswith("HTTP 404\n")
    code, out = strum_invoke("--path", "/", "--payload", "{}")
    assert code == 2
