"""``strum tail``: one access line per Function URL request, ``--filter``, a quiet Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.cli.test_deploy_safety import deploy, served
from tests.cli.test_end_to_end import deployed_url, home, strum  # noqa: F401 - the fixture

APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "hello"


@app.post("/boom")
def boom():
    raise RuntimeError("boom")
"""

ACCESS = re.compile(r"^\d\d:\d\d:\d\d (GET|POST) (\S+) (\d{3}) (\d+\.\d\d) ms (\d+) bytes$")


def get(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def test_tail_shows_one_access_line_per_request_and_filters(home, tmp_path):  # noqa: F811
    root = tmp_path / "tails"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "strum.toml").write_text('name = "tails"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    code, out = deploy(home, root)
    assert code == 0, out
    url = deployed_url(out)
    assert served(url) == "hello"
    assert get(url + "missing?page=2") == 404
    assert get(url + "boom", "POST") == 500

    def access_lines(*args: str) -> list[tuple[str, ...]]:
        # The log is committed within a moment of the request: poll with a deadline.
        deadline = time.monotonic() + 10
        while True:
            out = strum(home, "tail", "--since", "5m", "--project", str(root), *args)
            found = [m.groups() for m in map(ACCESS.match, out.splitlines()) if m]
            if len(found) >= 3 or time.monotonic() > deadline or args:
                return found
            time.sleep(0.1)

    lines = access_lines()
    assert [(m, p, s) for m, p, s, _, _ in lines] == [
        ("GET", "/", "200"),
        ("GET", "/missing?page=2", "404"),
        ("POST", "/boom", "500"),
    ]
    assert lines[0][4] == "5"  # "hello"
    assert all(float(duration) > 0 for *_, duration, _ in lines)
    # --filter keeps the lines containing the text, access lines or the function's own.
    assert [p for _, p, *_ in access_lines("--filter", " 404 ")] == ["/missing?page=2"]
    only = strum(home, "tail", "--since", "5m", "--project", str(root), "--filter", "boom")
    assert only.strip() and all("boom" in line for line in only.splitlines()), only
    assert "RuntimeError: boom" in only


def test_ctrl_c_ends_following_quietly(home, tmp_path):  # noqa: F811
    root = tmp_path / "quiet"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "strum.toml").write_text('name = "quiet"\napp = "app:app"\n')
    (root / "requirements.txt").write_text("flask\n")
    code, out = deploy(home, root)
    assert code == 0, out
    assert served(deployed_url(out)) == "hello"
    follower = subprocess.Popen(
        [sys.executable, "-m", "strum", "tail", "-f", "--project", str(root)],
        env=dict(os.environ, STRUM_HOME=str(home), NO_COLOR="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    # Once it printed a line it is in its follow loop.
    first = follower.stdout.readline()
    assert " 200 " in first or "START" in first, first
    follower.send_signal(signal.SIGINT)
    _, errors = follower.communicate(timeout=30)
    assert follower.returncode == 0, errors
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    assert errors.strip() == ""
