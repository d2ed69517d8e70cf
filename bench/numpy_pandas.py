"""A numpy + pandas app deployed to the local platform: big dependencies, end to end.

    .venv/bin/python bench/numpy_pandas.py

Not a test and not in CI: it installs numpy and pandas from PyPI (about 45 MB zipped, the
size that used to fail a local deploy with "Maximum request body size exceeded"). It runs
the real ``strum deploy`` against a fresh ``$STRUM_HOME``, calls the function URL and checks
the answer pandas computed, then times a code-only redeploy (the dependency layer is reused,
only the app's code zip travels) and a no-op one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRUM = [sys.executable, "-m", "strum"]

APP = """\
import pandas as pd


def app(environ, start_response):
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [10.0, 20.0, 30.0, 40.0]})
    body = frame.describe().loc["mean"].to_json().encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
"""


def deploy(env: dict[str, str], project: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [*STRUM, "deploy"], env=env, cwd=project, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"strum deploy failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="strum-bench-pandas-"))
    home = workdir / "home"
    project = workdir / "pandas-app"
    project.mkdir()
    (project / "app.py").write_text(APP)
    (project / "requirements.txt").write_text("numpy\npandas\n")
    (project / "strum.toml").write_text('app = "app:app"\nname = "pandas-app"\nmemory = 1024\n')
    env = dict(os.environ, STRUM_HOME=str(home), PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
    try:
        first, output = deploy(env, project)
        url = output.strip().splitlines()[-1]
        with urllib.request.urlopen(url, timeout=120) as response:
            answer = json.loads(response.read())
        assert answer == {"x": 2.5, "y": 25.0}, answer
        layers = sorted((home / "cache" / "layers").glob("local-*.zip"))
        size = layers[-1].stat().st_size / 1e6 if layers else 0.0
        (project / "app.py").write_text(APP + "# changed\n")
        code_only, _ = deploy(env, project)
        noop, _ = deploy(env, project)
        print(f"numpy + pandas app (dependency layer {size:.1f} MB zipped), local platform:")
        print(f"  first deploy (install, layer upload, start): {first:6.1f} s; answered {answer}")
        print(f"  code-only redeploy (layer reused):           {code_only:6.1f} s")
        print(f"  no-op redeploy:                              {noop:6.1f} s")
    finally:
        subprocess.run([*STRUM, "platform", "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
