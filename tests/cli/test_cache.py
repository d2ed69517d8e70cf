"""``strum cache`` and ``strum cache prune``: sizes, age-based pruning that spares what a
build just reused, and a prune that waits for a build holding the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from strum.build import cache_in_use
from strum.cli import cli


def strum(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"STRUM_HOME": str(home), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def project(tmp_path: Path) -> Path:
    root = tmp_path / "cached"
    root.mkdir()
    (root / "app.py").write_text("def app(environ, start_response):\n    return []\n")
    (root / "strum.toml").write_text('app = "app:app"\n')
    return root


def age(root: Path, days: float) -> None:
    moment = time.time() - days * 86400
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(Path(folder) / name, (moment, moment))


def test_cache_shows_its_parts_and_prunes_only_what_no_build_used(tmp_path):
    home = tmp_path / "home"
    root = project(tmp_path)
    strum(home, "package", "--project", str(root))
    cache = home / "cache"
    stale = cache / "layers" / "0123456789abcdef.zip"  # a layer no build uses any more
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"x" * 1000)
    document = json.loads(strum(home, "cache", "--json"))
    assert document["path"] == str(cache)
    assert document["parts"]["packages"]["files"] >= 1
    assert document["parts"]["pyc"]["files"] >= 1
    assert document["parts"]["layers"]["files"] == 1
    text = strum(home, "cache")
    assert f"{cache}: " in text and "packages" in text and "dependency zips" in text

    # Everything is 40 days old; a build now reuses (and so refreshes) what it needs.
    age(cache, 40)
    strum(home, "package", "--project", str(root))
    out = strum(home, "cache", "prune", "--older-than", "30d")
    assert "removed 1 files" in out, out
    assert not stale.exists()
    after = json.loads(strum(home, "cache", "--json"))["parts"]
    assert after["packages"]["files"] == document["parts"]["packages"]["files"]
    assert after["pyc"]["files"] == document["parts"]["pyc"]["files"]

    out = strum(home, "cache", "prune", "--all")
    assert "every entry" in out
    assert json.loads(strum(home, "cache", "--json"))["size"] == 0
    # Built again from nothing, as if never cached.
    strum(home, "package", "--project", str(root))


def test_a_prune_waits_for_a_build_using_the_cache(tmp_path):
    home = tmp_path / "home"
    root = project(tmp_path)
    strum(home, "package", "--project", str(root))
    cache = home / "cache"
    before = json.loads(strum(home, "cache", "--json"))["parts"]["packages"]["files"]
    with cache_in_use(cache):  # what every build and deploy holds while it runs
        pruning = subprocess.Popen(
            [sys.executable, "-m", "strum", "cache", "prune", "--all"],
            env=dict(os.environ, STRUM_HOME=str(home), NO_COLOR="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert pruning.stdout is not None
        line = pruning.stdout.readline()
        assert "a build or deploy is using the cache; waiting" in line
        assert pruning.poll() is None
        assert json.loads(strum(home, "cache", "--json"))["parts"]["packages"]["files"] == before
    rest = pruning.communicate(timeout=60)[0]
    assert pruning.returncode == 0, rest
    assert "removed" in rest
    assert json.loads(strum(home, "cache", "--json"))["size"] == 0
