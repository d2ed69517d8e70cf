"""Stable stage URLs: ``http://<stage>.<project>.localhost:<platform port>/`` serves the stage
through redeploys, an undeploy and a redeploy, and a platform restart; the listener's own
``http://127.0.0.1:<port>/`` keeps working, and keeps its port across an undeploy.

Browsers and curl resolve ``*.localhost`` to loopback themselves; Python's resolver may
not, so the requests here go to 127.0.0.1 with the stage's ``Host`` - what curl sends - and
through curl itself where it is installed.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from strum.cli import cli
from tests.cli.test_deploy_safety import served
from tests.cli.test_end_to_end import deployed_url
from tests.platform.conftest import start_platform

APP = """\
from flask import Flask, request

app = Flask(__name__)


@app.get("/")
def index():
    return {"served": MARK, "host": request.host, "port": request.headers["X-Forwarded-Port"]}
"""


def strum(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"STRUM_HOME": str(home), "NO_COLOR": "1"})
    return result.exit_code, result.output


def fetch(url: str) -> tuple[int, str]:
    """GET ``url`` the way curl does for a ``*.localhost`` name: to loopback, with its Host."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("GET", parts.path or "/", headers={"Host": parts.netloc})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def write(root: Path, mark: str) -> None:
    (root / "app.py").write_text(f"MARK = {mark!r}\n" + APP)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "steady"
    root.mkdir()
    write(root, "one")
    (root / "strum.toml").write_text('name = "steady"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    return root


def test_a_stage_keeps_its_url_through_undeploy_redeploy_and_restart(tmp_path, project):
    home = tmp_path / "home"
    running = start_platform(home)
    port = urlsplit(running.endpoint).port
    stable = f"http://dev.steady.localhost:{port}/"
    try:
        code, out = strum(home, "deploy", "--project", str(project))
        assert code == 0, out
        assert out.strip().splitlines()[-1] == stable
        direct = deployed_url(out)
        status, body = fetch(stable)
        assert status == 200, body
        # The app sees the host it was called by.
        assert json.loads(body) == {
            "host": f"dev.steady.localhost:{port}",
            "port": str(port),  # the port it came in on, not the listener's
            "served": "one",
        }
        assert json.loads(served(direct))["served"] == "one"
        if shutil.which("curl"):
            curled = subprocess.run(
                ["curl", "-s", "--max-time", "30", stable],
                capture_output=True,
                text=True,
                check=True,
            )
            assert json.loads(curled.stdout)["served"] == "one"
        code, out = strum(home, "status", "--project", str(project))
        assert code == 0, out
        assert stable in out and f"also at   {direct}" in out
        state = json.loads(strum(home, "status", "--json", "--project", str(project))[1])
        assert (state["url"], state["direct_url"]) == (stable, direct)

        # Redeployed: the same URLs serve the new version.
        write(project, "two")
        code, out = strum(home, "deploy", "--project", str(project))
        assert code == 0, out
        assert (out.strip().splitlines()[-1], deployed_url(out)) == (stable, direct)
        assert json.loads(fetch(stable)[1])["served"] == "two"

        # Undeployed: the stage's host says what is missing; deployed again, both URLs are back.
        code, out = strum(home, "undeploy", "--yes", "--project", str(project))
        assert code == 0, out
        status, body = fetch(stable)
        assert status == 404
        assert "no function URL for stage dev of project steady" in json.loads(body)["Message"]
        code, out = strum(home, "deploy", "--project", str(project))
        assert code == 0, out
        assert (out.strip().splitlines()[-1], deployed_url(out)) == (stable, direct)
        assert json.loads(fetch(stable)[1])["served"] == "two"
    finally:
        running.stop()

    # Restarted on its port, the platform serves the stage at the same URL.
    running = start_platform(home, port=port)
    try:
        status, body = fetch(stable)
        assert status == 200, body
        assert json.loads(body)["served"] == "two"
        assert json.loads(served(direct))["served"] == "two"
    finally:
        running.stop()


def test_the_api_still_answers_on_its_own_host(tmp_path):
    home = tmp_path / "home"
    running = start_platform(home)
    try:
        port = urlsplit(running.endpoint).port
        # An unknown stage host is not the API: it says which stage it looked for.
        status, body = fetch(f"http://prod.nothing.localhost:{port}/2015-03-31/functions")
        assert status == 404
        assert "stage prod of project nothing" in body
        # Any other host is the API, signed as ever (unsigned: AWS's refusal).
        status, body = fetch(f"http://127.0.0.1:{port}/2015-03-31/functions")
        assert status == 403
        assert "MissingAuthenticationToken" in body or "Missing Authentication Token" in body
        # A deeper name is not a stage host either.
        status, _ = fetch(f"http://a.b.c.localhost:{port}/2015-03-31/functions")
        assert status == 403
    finally:
        running.stop()
