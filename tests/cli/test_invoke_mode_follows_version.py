"""The function URL's invoke mode follows the version the stage serves (issue: deploy
safety): deploying ``stream = true``, rolling back to a buffered version, deploying again
and turning streaming off each leave the URL answering the app's own body - never the
Lambda envelope of a buffered version served raw by a RESPONSE_STREAM URL, nor the 502 of
a streamed version behind a BUFFERED one."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from tests.cli.test_end_to_end import deployed_url, home, strum  # noqa: F401 - the fixture

APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello ", MARK.encode()]
"""


def write(root: Path, mark: str, *, stream: bool) -> None:
    (root / "app.py").write_text(f"MARK = {mark!r}\n" + APP)
    (root / "strum.toml").write_text(
        f'name = "modes"\napp = "app:app"\nstream = {"true" if stream else "false"}\n'
    )


def fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode(), response.headers.get("Transfer-Encoding", "")


def mode(home: Path, root: Path) -> str:  # noqa: F811
    from strum.deploy.local.client import PlatformLambdaAPI
    from strum.platform import daemon
    from strum.platform.home import Home

    running = daemon.find_running(Home(home))
    assert running is not None
    api = PlatformLambdaAPI.for_home(Home(home), running.endpoint)
    try:
        config = api.get_url_config("modes-dev", "dev")
        assert config is not None
        return str(config["InvokeMode"])
    finally:
        api.close()


def test_deploy_stream_rollback_and_back(home: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "modes"
    root.mkdir()
    write(root, "one", stream=False)
    url = deployed_url(strum(home, "deploy", "--project", str(root)))
    assert fetch(url) == ("hello one", "")
    assert mode(home, root) == "BUFFERED"

    write(root, "two", stream=True)
    assert deployed_url(strum(home, "deploy", "--project", str(root))) == url
    assert fetch(url) == ("hello two", "chunked")
    assert mode(home, root) == "RESPONSE_STREAM"

    out = strum(home, "rollback", "--project", str(root))
    assert "now serves version 1" in out
    assert "switching the function URL of modes-dev:dev to BUFFERED" in out
    assert fetch(url) == ("hello one", "")
    assert mode(home, root) == "BUFFERED"

    # Deploying the streamed project again serves version 2 again, streamed.
    strum(home, "deploy", "--project", str(root))
    assert fetch(url) == ("hello two", "chunked")

    write(root, "three", stream=False)
    strum(home, "deploy", "--project", str(root))
    assert fetch(url) == ("hello three", "")
    assert mode(home, root) == "BUFFERED"
    out = strum(home, "rollback", "--project", str(root))
    assert "now serves version 2" in out
    assert fetch(url) == ("hello two", "chunked")
    assert mode(home, root) == "RESPONSE_STREAM"
