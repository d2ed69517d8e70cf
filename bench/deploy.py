"""Deploy times on the local platform: first, no-op and code-only deploys; 100 functions.

    .venv/bin/python bench/deploy.py            # full run
    .venv/bin/python bench/deploy.py --quick    # 10 functions instead of 100

The single-app timings run the real ``strum deploy`` command (a new process each time, as a
user types it) against a fresh ``$STRUM_HOME``. The 100-function run deploys projects
that each depend on the same five packages through the library, once with an empty cache
(``cold``: dependencies installed once, each project publishing its dependency layer) and
once more after a code-only change in every project (``warm``: only the small code zips
travel; the layers are reused).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from strum.config import load_config  # noqa: E402
from strum.deploy.local import LocalTarget  # noqa: E402
from strum.platform import daemon  # noqa: E402
from strum.platform.home import Home  # noqa: E402

FIVE = [
    "flask==3.1.3",
    "requests==2.32.3",
    "pyyaml==6.0.2",
    "python-dateutil==2.9.0.post0",
    "attrs==24.2.0",
]
STRUM = [sys.executable, "-m", "strum"]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def single_app(workdir: Path) -> None:
    home = workdir / "home-single"
    project = workdir / "flask"
    shutil.copytree(ROOT / "examples" / "flask", project)
    env = dict(os.environ, STRUM_HOME=str(home), PYTHONPATH=str(ROOT / "src"))
    try:
        first = timed([*STRUM, "deploy"], env, project)
        noop = min(timed([*STRUM, "deploy"], env, project) for _ in range(3))
        app = project / "app.py"
        codes = []
        for round_ in range(3):
            app.write_text(app.read_text() + f"\n# change {round_}\n")
            codes.append(timed([*STRUM, "deploy"], env, project))
        print("Flask example, `strum deploy` wall time (new process each time):")
        print(f"  first deploy (platform start, dependency install): {first:6.2f} s")
        print(f"  no-op redeploy (best of 3):                         {noop:6.2f} s")
        print(f"  code-only redeploy (median of 3):                   {sorted(codes)[1]:6.2f} s")
    finally:
        daemon.stop(Home(home))


def many(workdir: Path, count: int, templates: bool = True) -> None:
    home = Home(workdir / "home-many")
    # Started here rather than by the first deploy, to say how cold starts start.
    daemon.start(home, port=0, templates=templates)
    projects = []
    for index in range(count):
        project = workdir / "many" / f"fn{index:03d}"
        project.mkdir(parents=True)
        (project / "app.py").write_text(
            "from flask import Flask\napp = Flask(__name__)\n"
            f"@app.get('/')\ndef index():\n    return {{'function': {index}}}\n"
        )
        (project / "requirements.txt").write_text("\n".join(FIVE) + "\n")
        (project / "strum.toml").write_text(f'app = "app:app"\nname = "bench{index:03d}"\n')
        projects.append(project)
    os.environ["STRUM_HOME"] = str(home.root)
    quiet = _Quiet()
    try:
        timings = []
        for label in ("cold", "warm"):
            if label == "warm":  # a code-only change in every project
                for project in projects:
                    app = project / "app.py"
                    app.write_text(app.read_text() + "# changed\n")
            started = time.perf_counter()
            for project in projects:
                LocalTarget(load_config(project), home).deploy(quiet.step, quiet.info)
            timings.append((label, time.perf_counter() - started))
        for project in projects:
            LocalTarget(load_config(project), home).undeploy(quiet.step)
        how = "templates" if templates else "no templates"
        print(
            f"\n{count} functions x 5 dependencies ({', '.join(FIVE)}) deployed to the local "
            f"platform ({how}):"
        )
        for label, seconds in timings:
            print(f"  {label}: {seconds:6.1f} s  ({seconds / count * 1000:.0f} ms per function)")
        print("  goal: under 30 s cold, under 10 s warm (for 100)")
    finally:
        daemon.stop(home)


class _Quiet:
    def info(self, message: str) -> None:
        pass

    def step(self, message: str):  # type: ignore[no-untyped-def]
        import contextlib

        return contextlib.nullcontext()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 functions instead of 100")
    parser.add_argument("--many-only", action="store_true", help="skip the single-app timings")
    parser.add_argument(
        "--no-templates",
        action="store_true",
        help="the platform starts an interpreter per cold start",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="strum-bench-deploy-"))
    try:
        if not args.many_only:
            single_app(workdir)
        many(workdir, 10 if args.quick else 100, templates=not args.no_templates)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
