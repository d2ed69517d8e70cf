"""``check = "/healthz"``: a version that initialises but answers its check with 500 or more
never serves; the deploy fails with the status and the body, and the alias stays.

The request is the Function URL event ``strum invoke --path`` builds, sent to the version
just published (not the alias), after its init check and before the alias moves.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from strum.cli import cli
from tests.cli.test_deploy_safety import deploy, served
from tests.cli.test_end_to_end import deployed_url, home  # noqa: F401 - the fixture

APP = """\
from flask import Flask, request

app = Flask(__name__)
HEALTH = {health!r}


@app.get("/")
def index():
    return {{"served": {mark!r}}}


@app.get("/healthz")
def healthz():
    if HEALTH == "raise":
        raise RuntimeError("the cache is unreachable")
    return {{"ok": HEALTH == "ok", "probe": request.headers.get("Host", "")}}, (
        200 if HEALTH == "ok" else 503
    )
"""


def write(root, *, mark: str, health: str, check: str = "/healthz") -> None:
    (root / "app.py").write_text(APP.format(mark=mark, health=health))
    (root / "strum.toml").write_text(f'name = "{root.name}"\napp = "app:app"\ncheck = "{check}"\n')


@pytest.fixture
def checked(home, tmp_path, request):  # noqa: F811
    name = "chk" + "".join(c for c in request.node.name if c.isalnum())[-20:].lower()
    root = tmp_path / name
    root.mkdir()
    (root / "requirements.txt").write_text("flask\n")
    write(root, mark="one", health="ok")
    code, out = deploy(home, root)
    assert code == 0, out
    assert "then answer GET /healthz under 500" in out
    url = deployed_url(out)
    assert served(url) == '{"served":"one"}\n'
    return root, url


def test_a_version_failing_its_check_never_serves(home, checked):  # noqa: F811
    root, url = checked
    write(root, mark="two", health="bad")
    code, out = deploy(home, root)
    assert code == 7, out
    assert "version 2 of " in out
    assert "failed its check (GET /healthz), so the alias dev still serves version 1" in out
    assert 'HTTP 503: {"ok":false,"probe":' in out
    assert served(url) == '{"served":"one"}\n'
    # The app raising is a 500 from Flask: the same refusal.
    write(root, mark="three", health="raise")
    code, out = deploy(home, root)
    assert code == 7, out
    assert "failed its check (GET /healthz)" in out
    assert "HTTP 500: " in out
    assert served(url) == '{"served":"one"}\n'
    # Healthy again, it serves.
    write(root, mark="four", health="ok")
    code, out = deploy(home, root)
    assert code == 0, out
    assert served(url) == '{"served":"four"}\n'


def test_a_check_under_500_passes_even_when_not_200(home, checked):  # noqa: F811
    root, url = checked
    write(root, mark="two", health="ok", check="/missing?x=1")
    code, out = deploy(home, root)
    assert code == 0, out  # 404 < 500: the app answers, which is all the check asks
    assert served(url) == '{"served":"two"}\n'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"healthz"', 'must be a URL path (and query) starting with "/"'),
        ('"/a b"', 'must be a URL path (and query) starting with "/"'),
        ("true", "must be a string"),
    ],
)
def test_a_bad_check_is_a_config_error(tmp_path, value, message):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "app.py").write_text("app = None\n")
    (root / "strum.toml").write_text(f'app = "app:app"\ncheck = {value}\n')
    result = CliRunner().invoke(
        cli, ["deploy", "--dry-run", "--project", str(root)],
        env={"STRUM_HOME": str(tmp_path / "h"), "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.exit_code != 0
    assert "check" in result.output and message in result.output, result.output


def test_a_check_without_an_app_says_so(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "jobs.py").write_text("def run(event, context):\n    return 1\n")
    (root / "strum.toml").write_text(
        'check = "/healthz"\n[schedules]\nn = { function = "jobs:run", expression = "rate(1 hour)" }\n'
    )
    result = CliRunner().invoke(
        cli, ["deploy", "--dry-run", "--project", str(root)],
        env={"STRUM_HOME": str(tmp_path / "h"), "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.exit_code != 0
    assert 'check = "/healthz" needs a web app to send the request to' in result.output
