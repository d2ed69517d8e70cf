"""`strum dev`: seconds from saving a file to the new code answering, for the Flask example.

    .venv/bin/python bench/dev_save.py [--rounds 10]

Runs the real ``strum dev`` (a subprocess, against a fresh ``$STRUM_HOME``) on a copy of
``examples/flask``, then appends a new route-visible change to ``app.py`` each round and
polls the stage's listener until the new body answers. Prints the median and p90.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str) -> bytes | None:
    """The body at ``url``; a stable ``*.localhost`` URL is asked of 127.0.0.1 with its Host
    header, as curl and browsers resolve it (Python's resolver may not)."""
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(url)
    if (parts.hostname or "").endswith(".localhost"):
        request = urllib.request.Request(
            parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl(),
            headers={"Host": parts.netloc},
        )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    workdir = Path(tempfile.mkdtemp(prefix="strum-bench-dev-"))
    project = workdir / "flask"
    shutil.copytree(ROOT / "examples" / "flask", project)
    app = project / "app.py"
    app.write_text(app.read_text() + '\n\n@app.get("/bench")\ndef bench():\n    return "v0"\n')
    env = dict(
        os.environ,
        STRUM_HOME=str(workdir / "home"),
        STRUM_PLATFORM_PORT="0",
        PYTHONPATH=str(ROOT / "src"),
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "strum", "dev"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found = threading.Event()
    direct: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"http://[^\s]+/", line)
            if match and not direct:
                direct.append(match.group(0))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        started = time.perf_counter()
        if not found.wait(120):
            raise SystemExit("strum dev printed no URL within 120 s")
        url = direct[0] + "bench"
        while fetch(url) != b"v0":
            if time.perf_counter() - started > 120:
                raise SystemExit(f"{url} never answered v0")
            time.sleep(0.02)
        print(f"first deploy to answering: {time.perf_counter() - started:.2f} s")
        times = []
        for round_ in range(1, rounds + 1):
            text = app.read_text().replace(f'return "v{round_ - 1}"', f'return "v{round_}"')
            saved = time.perf_counter()
            app.write_text(text)
            while fetch(url) != f"v{round_}".encode():
                if time.perf_counter() - saved > 30:
                    raise SystemExit(f"round {round_}: the new code never answered")
                time.sleep(0.01)
            times.append(time.perf_counter() - saved)
        times.sort()
        p90 = times[max(0, int(len(times) * 0.9) - 1)]
        print(
            f"save -> new code answering, {rounds} rounds: "
            f"median {statistics.median(times) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms"
        )
    finally:
        process.send_signal(2)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        subprocess.run(
            [sys.executable, "-m", "strum", "platform", "stop"], env=env, capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
