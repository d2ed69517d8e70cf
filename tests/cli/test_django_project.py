"""A fresh ``django-admin startproject`` site, end to end through the CLI: ``strum init``
makes it deployable, ``strum deploy`` serves it, ``strum manage -- migrate`` creates its
database on the stage's volume, the admin's login page and its CSS answer 200, and a
management command's own prints reach the terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from strum.platform import sandbox
from strum.platform.volumes import volume_id
from tests.cli.test_end_to_end import Client, deployed_url, strum
from tests.platform.conftest import start_platform

# The database lives on a volume, and volumes need the sandbox's mount namespace.
pytestmark = pytest.mark.skipif(sandbox.probe().bwrap is None, reason="volumes need the sandbox")


def startproject(root: Path) -> Path:
    root.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


def test_a_fresh_django_project_works_deployed(tmp_path: Path) -> None:
    root = startproject(tmp_path / "site")
    home = tmp_path / "home"
    out = strum(home, "init", "--yes", "--project", str(root))
    assert "served by WhiteNoise" in out and "/mnt/data/db.sqlite3" in out
    assert "requirements.txt" in out and "manage -- migrate" in out
    assert "whitenoise" in (root / "requirements.txt").read_text()
    settings = (root / "mysite" / "settings.py").read_text()
    # Running init again changes nothing (--force rewrites only the config).
    strum(home, "init", "--yes", "--force", "--project", str(root))
    assert (root / "mysite" / "settings.py").read_text() == settings

    running = start_platform(home, sandbox=True)
    try:
        url = deployed_url(strum(home, "deploy", "--project", str(root)))
        assert not (root / "staticfiles").exists()  # collected into the package, not here
        migrated = strum(home, "manage", "--project", str(root), "--", "migrate")
        assert "Applying auth.0001_initial... OK" in migrated
        assert (home / "volumes" / volume_id("data") / "db.sqlite3").is_file()
        client = Client()
        status, _, page = client.get(url + "admin/login/")
        assert status == 200, page[:500]
        assert b"Django administration" in page
        status, headers, css = client.get(url + "static/admin/css/base.css")
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert b"--body-bg" in css or b"body" in css
        printed = strum(home, "manage", "--project", str(root), "--", "shell", "-c", "print(6*7)")
        assert "42" in printed.splitlines()
        # The database outlives a deploy of new code.
        views = root / "mysite" / "urls.py"
        views.write_text(views.read_text() + "\n# changed\n")
        assert "version 2" in strum(home, "deploy", "--project", str(root))
        again = strum(home, "manage", "--project", str(root), "--", "migrate")
        assert "No migrations to apply." in again
    finally:
        running.stop()
