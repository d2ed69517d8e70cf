"""Package size and build time: strum vs ``zappa package`` for a hello-world Flask app.

    .venv/bin/python bench/package.py            # full run (creates a Zappa virtualenv once)
    .venv/bin/python bench/package.py --no-zappa # strum only

Zappa needs an active virtualenv holding the app's dependencies and packages all of it;
the bench gives it a fresh one with only Flask and Zappa, which is the best case for Zappa.
strum builds from requirements.txt with no virtualenv. Also times packaging 100 functions
that share five dependencies, with a cold and a warm cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from strum.build import PackageSpec, Target, build  # noqa: E402

APP = """from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"hello": "world"}
"""
FIVE = [
    "flask==3.1.3",
    "requests==2.32.3",
    "pyyaml==6.0.2",
    "python-dateutil==2.9.0.post0",
    "attrs==24.2.0",
]


def sizes(paths: list[Path]) -> tuple[int, int, int]:
    zipped = unzipped = files = 0
    for path in paths:
        zipped += path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    files += 1
                    unzipped += info.file_size
    return zipped, unzipped, files


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB"


def strum_hello(workdir: Path, target: Target) -> dict[str, object]:
    project = workdir / "hello"
    project.mkdir(exist_ok=True)
    (project / "app.py").write_text(APP)
    (project / "requirements.txt").write_text("flask==3.1.3\n")
    cache = workdir / f"cache-{target.key}"
    spec = PackageSpec(project, "hello", target, {"version": 1, "app": "app:app"}, cache_dir=cache)
    started = time.perf_counter()
    artifact = build(spec)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    build(spec)
    warm = time.perf_counter() - started
    parts = [artifact.code_zip] + ([artifact.deps_zip] if artifact.deps_zip else [])
    zipped, unzipped, files = sizes(parts)
    return {
        "tool": f"strum ({target.key})",
        "zipped": zipped,
        "unzipped": unzipped,
        "files": files,
        "cold_s": cold,
        "warm_s": warm,
    }


def zappa_hello(workdir: Path) -> dict[str, object] | None:
    venv = workdir / "zappa-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print("creating a virtualenv with flask and zappa for the comparison ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "flask==3.1.3", "zappa==0.63.0"], check=True
        )
    project = workdir / "zappa-hello"
    project.mkdir(exist_ok=True)
    (project / "app.py").write_text(APP)
    settings = {
        "dev": {
            "app_function": "app.app",
            "project_name": "hello",
            "runtime": f"python{sys.version_info[0]}.{sys.version_info[1]}",
            "s3_bucket": "strum-bench-unused",
            "aws_region": "us-east-1",
        }
    }
    (project / "zappa_settings.json").write_text(json.dumps(settings))
    env = dict(
        os.environ,
        VIRTUAL_ENV=str(venv),
        PATH=f"{venv / 'bin'}:{os.environ['PATH']}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    output = project / "zappa-package.zip"
    timings = []
    for _ in range(2):
        output.unlink(missing_ok=True)
        started = time.perf_counter()
        result = subprocess.run(
            [str(venv / "bin" / "zappa"), "package", "dev", "-o", str(output)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        timings.append(time.perf_counter() - started)
        if result.returncode != 0 or not output.exists():
            print("zappa package failed:", result.stderr[-2000:] or result.stdout[-2000:])
            return None
    zipped, unzipped, files = sizes([output])
    return {
        "tool": "zappa 0.63.0",
        "zipped": zipped,
        "unzipped": unzipped,
        "files": files,
        "cold_s": timings[0],
        "warm_s": timings[1],
    }


def hundred_functions(workdir: Path, target: Target) -> tuple[float, float]:
    cache = workdir / "cache-100"
    shutil.rmtree(cache, ignore_errors=True)
    projects = []
    for index in range(100):
        project = workdir / "many" / f"fn{index:03d}"
        project.mkdir(parents=True, exist_ok=True)
        (project / "app.py").write_text(APP + f"\nFUNCTION = {index}\n")
        (project / "requirements.txt").write_text("\n".join(FIVE) + "\n")
        projects.append(
            PackageSpec(
                project, f"fn{index}", target, {"version": 1, "app": "app:app"}, cache_dir=cache
            )
        )
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        for spec in projects:
            build(spec)
        timings.append(time.perf_counter() - started)
    return timings[0], timings[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-zappa", action="store_true", help="skip the Zappa comparison")
    parser.add_argument("--workdir", type=Path, help="keep work files here (reuses the Zappa venv)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="strum-bench-package-"))
    workdir.mkdir(parents=True, exist_ok=True)
    host = Target.local()
    rows = [
        strum_hello(workdir, Target(host.python, "x86_64", "aws")),
        strum_hello(workdir, Target("3.13" if host.python != "3.13" else "3.12", "arm64", "aws")),
    ]
    if not args.no_zappa:
        zappa = zappa_hello(workdir)
        if zappa:
            rows.append(zappa)
    print("\nhello-world Flask app, packaged (strum adds bytecode when the target Python matches)")
    print(f"  {'tool':32} {'zipped':>11} {'unzipped':>11} {'files':>6} {'cold':>8} {'warm':>8}")
    for row in rows:
        print(
            f"  {row['tool']:32} {mib(row['zipped']):>11} {mib(row['unzipped']):>11} {row['files']:>6} "
            f"{row['cold_s']:>7.2f}s {row['warm_s']:>7.2f}s"
        )
    if len(rows) == 3:
        ratio = rows[0]["zipped"] / rows[2]["zipped"]  # type: ignore[operator]
        print(f"  strum/zappa zipped size: {ratio:.2f} (goal <= 0.20)")
    cold, warm = hundred_functions(workdir, Target(host.python, "x86_64", "aws"))
    print(f"\n100 functions x 5 dependencies ({', '.join(FIVE)}):")
    print(f"  package all, cold cache: {cold:.1f} s; warm cache: {warm:.1f} s")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
