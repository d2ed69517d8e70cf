"""End to end: the CLI deploys the examples to a real platform; a real HTTP client uses them.

One platform (ephemeral port, fresh ``$STRUM_HOME``) serves the whole module; each example
is copied to a temporary project so code changes never touch the repository.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from strum.cli import cli
from tests.platform.conftest import RunningPlatform, start_platform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("strum-home")
    running: RunningPlatform = start_platform(root)
    yield root
    running.stop()


def strum(home: Path, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, list(args), env={"STRUM_HOME": str(home), "NO_COLOR": "1"})
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def project(tmp_path: Path, example: str) -> Path:
    destination = tmp_path / example
    shutil.copytree(EXAMPLES / example, destination)
    return destination


class Client:
    """A tiny cookie-keeping HTTP client (urllib), without redirect following."""

    def __init__(self) -> None:
        import http.cookiejar

        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with self.opener.open(url, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()


def deployed_url(output: str) -> str:
    """The URL a deploy printed that this process can fetch: the last line is the stage's
    stable ``http://<stage>.<project>.localhost:<port>/`` (which browsers and curl resolve,
    and Python's resolver may not); the listener's own address is printed above it."""
    lines = output.strip().splitlines()
    assert re.fullmatch(r"http://[a-z0-9_-]+\.[a-z0-9_-]+\.localhost:\d+/", lines[-1]), output
    (direct,) = [line.split()[2] for line in lines if line.startswith("also at http://127.0.0.1:")]
    return direct


def test_flask_deploy_redeploy_rollback_undeploy(home: Path, tmp_path: Path) -> None:
    root = project(tmp_path, "flask")
    out = strum(home, "deploy", "--project", str(root))
    url = deployed_url(out)
    client = Client()
    status, headers, body = client.get(url)
    assert status == 200
    assert b"visited 1 time" in body
    assert client.get(url)[2].count(b"visited 2 time") == 1  # the session cookie came back
    status, _, body = client.get(url + "api")
    assert json.loads(body) == {"message": "hello", "path": "/api", "root": ""}
    status, headers, _ = client.get(url + "home")
    assert (status, headers["Location"]) == (302, "/")

    assert "nothing changed" in strum(home, "deploy", "--project", str(root))
    dry = strum(home, "deploy", "--dry-run", "--project", str(root))
    assert "nothing to do" in dry

    app = root / "app.py"
    app.write_text(app.read_text().replace("Hello from Flask", "Hello again from Flask"))
    assert "would upload new code" in strum(home, "deploy", "--dry-run", "--project", str(root))
    out = strum(home, "deploy", "--project", str(root))
    assert "version 2" in out
    assert deployed_url(out) == url  # the URL stays
    assert b"Hello again" in client.get(url)[2]

    status_doc = json.loads(strum(home, "status", "--json", "--project", str(root)))
    assert status_doc["version"] == "2"
    assert status_doc["versions"] == ["1", "2"]
    assert status_doc["direct_url"] == url
    assert (
        status_doc["url"]
        == f"http://dev.hello-flask.localhost:{urlsplit(status_doc['platform']).port}/"
    )

    assert "now serves version 1" in strum(home, "rollback", "--project", str(root))
    assert b"Hello from Flask" in client.get(url)[2]

    event = json.dumps(
        {
            "version": "2.0",
            "rawPath": "/api",
            "rawQueryString": "",
            "headers": {"host": "example.test"},
            "requestContext": {
                "http": {"method": "GET", "path": "/api", "sourceIp": "127.0.0.1"},
                "domainName": "example.test",
                "stage": "$default",
            },
            "isBase64Encoded": False,
        }
    )
    result = json.loads(
        strum(home, "invoke", "--payload", event, "--project", str(root)).splitlines()[-1]
    )
    assert result["statusCode"] == 200

    logs = strum(home, "tail", "--since", "5m", "--project", str(root))
    assert "START RequestId:" in logs
    assert "REPORT RequestId:" in logs

    assert "removed" in strum(home, "undeploy", "--yes", "--project", str(root))
    assert json.loads(strum(home, "status", "--json", "--project", str(root)))["deployed"] is False
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
    # Nothing of it is left on disk either: no package, no unpacked tree.
    assert list((home / "code").glob("*.zip")) == []
    assert [p for p in (home / "unpacked").iterdir() if not p.name.startswith(".")] == []
    assert list((home / "blobs").glob("*/*")) == []


def test_django_pages_static_admin_and_manage(home: Path, tmp_path: Path) -> None:
    root = project(tmp_path, "django")
    url = deployed_url(strum(home, "deploy", "--project", str(root)))
    client = Client()
    status, _, body = client.get(url)
    assert status == 200
    assert b"Hello from Django" in body
    assert b"/static/pages/site.css" in body
    status, headers, css = client.get(url + "static/pages/site.css")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"font-family" in css
    status, _, body = client.get(url + "admin/login/")
    assert status == 200
    assert b"Django administration" in body
    assert json.loads(client.get(url + "api/")[2]) == {
        "message": "hello from Django",
        "admin": "/admin/",
    }
    out = strum(home, "manage", "--project", str(root), "--", "check")
    assert "System check identified no issues" in out
    strum(home, "undeploy", "--yes", "--project", str(root))


def test_fastapi_json_and_streaming(home: Path, tmp_path: Path) -> None:
    root = project(tmp_path, "fastapi")
    url = deployed_url(strum(home, "deploy", "--project", str(root)))
    client = Client()
    assert json.loads(client.get(url)[2]) == {"hello": "FastAPI on strum", "ready": "yes"}
    assert json.loads(client.get(url + "items/3?q=x")[2]) == {"item_id": 3, "q": "x"}
    status, _headers, body = client.get(url + "count")
    assert status == 200
    assert body == b"1\n2\n3\n4\n5\n"
    strum(home, "undeploy", "--yes", "--project", str(root))


def test_bad_config_is_one_clear_error(home: Path, tmp_path: Path) -> None:
    root = project(tmp_path, "flask")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("memory = 256", "memory = 99999\nmemroy = 1")
    )
    result = CliRunner().invoke(
        cli, ["deploy", "--project", str(root)], env={"STRUM_HOME": str(home)}
    )
    assert result.exit_code == 2
    assert "tool.strum.memory" in result.output
    assert "memroy" in result.output and 'did you mean "memory"' in result.output
