"""Cold starts with and without templates, against the import floor (issue 21's Benchmark).

Run: ``.venv/bin/python bench/coldstart.py [--rounds N] [--json]``. For a hello-world
function and the Flask, FastAPI and Django examples (``examples/``, built with ``strum
package``: the code zip and its dependency layer, merged into one function zip), prints:

- **floor**: a fresh ``python -S -c "import <app>"`` in the unpacked package, bytecode
  cached (the build compiles it), wall time of the whole process;
- **templates**: a cold start on a sandboxed platform whose cold starts fork the
  function's template, from ``Engine.invoke`` being called to its result (in the
  platform's process, so no HTTP client or SigV4 cost is counted);
- **no templates**: the same on a sandboxed platform started with ``templates=False``
  (each cold start is a new interpreter that imports the app);
- median and p90 of ``--rounds`` rounds (default 15), each round forced cold by stopping
  the warm instances first (not timed); then PSS (``/proc/PID/smaps_rollup``) per
  instance with 4 instances alive, with templates (the forks share the template's pages)
  and without.

Goals: each example's cold start with templates <= 0.5x its floor; hello-world <= 10 ms.
The two platforms run sandboxed in this process, each on its own loop thread, with fresh
``$STRUM_HOME`` directories; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from strum.platform import sandbox  # noqa: E402
from strum.platform.home import Home  # noqa: E402
from strum.platform.server import Platform  # noqa: E402
from strum.platform.settings import Settings  # noqa: E402

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
ROLE = "arn:aws:iam::000000000000:role/bench"
HELLO = "def handler(event, context):\n    return {'hello': 'world'}\n"
EVENT = (ROOT / "tests" / "events" / "http-v2-get.json").read_bytes()
# name -> (example directory, module the floor imports, extra environment of the floor)
EXAMPLES = {
    "flask": ("flask", "app", {}),
    "fastapi": ("fastapi", "main", {}),
    "django": ("django", "mysite.wsgi", {"DJANGO_SETTINGS_MODULE": "mysite.settings"}),
}


class Running:
    """One sandboxed platform on a loop thread of its own."""

    def __init__(self, home: Path, templates: bool) -> None:
        # Every cold start with templates forks, the first one too (as it does from a
        # version's second cold start on with the default settings).
        settings = Settings(
            host="127.0.0.1",
            port=0,
            sandbox=True,
            templates=templates,
            cold_starts_before_template=0,
        )
        self.platform = Platform(Home(home), settings)
        self.loop = asyncio.new_event_loop()
        started: Future[None] = Future()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self.platform.start())
            except BaseException as exc:
                started.set_exception(exc)
                return
            started.set_result(None)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.result(timeout=60)

    def call(self, coroutine: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        key = self.platform.keys.ensure_owner()
        return boto3.client(
            "lambda",
            endpoint_url=self.platform.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret,
            config=Config(retries={"max_attempts": 1}, read_timeout=120),
        )

    def stop(self) -> None:
        self.call(self.platform.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)


def build(workdir: Path) -> dict[str, tuple[bytes, str, int, Path, dict[str, str]]]:
    """Each function: (zip, handler, memory, unpacked directory, floor environment)."""
    built: dict[str, tuple[bytes, str, int, Path, dict[str, str]]] = {
        "hello": (_zip({"app.py": HELLO}), "app.handler", 128, workdir, {}),
    }
    (workdir / "app.py").write_text(HELLO)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(workdir / "app.py")], check=True)
    for name, (directory, _module, extra) in EXAMPLES.items():
        project = workdir / f"project-{name}"
        shutil.copytree(ROOT / "examples" / directory, project)
        out = workdir / f"out-{name}"
        env = {"STRUM_HOME": str(workdir / "build-home"), "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [sys.executable, "-m", "strum", "package", "--project", str(project), "-o", str(out)],
            check=True, capture_output=True, env={**env, "PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
        unpacked = workdir / f"unpacked-{name}"
        for part in [*out.glob("layer-*.zip"), *out.glob("code-*.zip")]:
            with zipfile.ZipFile(part) as archive:
                archive.extractall(unpacked)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(unpacked.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(unpacked).as_posix())
        memory = 512 if name == "django" else 256
        built[name] = (buffer.getvalue(), "strum.runtime.entry.handler", memory, unpacked, extra)
    return built


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def floor(directory: Path, module: str, extra: dict[str, str], rounds: int) -> list[float]:
    command = [sandbox.interpreter(), "-S", "-c", f"import {module}"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(directory), **extra}
    subprocess.run(command, cwd=directory, env=env, check=True)  # warms the page cache
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, cwd=directory, env=env, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _stop_warm(engine: Any, name: str) -> None:
    instances = [i for i in engine._instances if i.spec.name == name]
    for instance in instances:
        engine._remove_idle(instance)
        instance.stop()
    for instance in instances:
        await instance.exited


async def _cold(engine: Any, spec: Any, payload: bytes) -> float:
    started = time.perf_counter()
    result = await engine.invoke(spec, payload)
    elapsed = (time.perf_counter() - started) * 1000
    if result.function_error:
        raise SystemExit(f"{spec.name} failed: {result.payload[:500]!r}")
    return elapsed


async def _pss(engine: Any, spec: Any, count: int) -> float:
    """Mean PSS (MiB) of ``count`` instances alive at once."""
    instances = [await engine.spawn(spec) for _ in range(count)]
    try:
        await asyncio.wait_for(asyncio.gather(*(i.initialised for i in instances)), 60)
        sizes = []
        for instance in instances:
            try:
                rollup = Path(f"/proc/{instance.function_pid()}/smaps_rollup").read_text()
            except OSError as exc:
                print(
                    f"  ({spec.name}: an instance is gone: {exc}; alive={instance.alive}, "
                    f"kill_reason={instance.kill_reason})",
                    file=sys.stderr,
                )
                continue
            sizes.append(
                next(
                    int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
                )
            )
        return sum(sizes) / max(1, len(sizes)) / 1024
    finally:
        for instance in instances:
            instance.stop()
        for instance in instances:
            await instance.exited


def measure(
    running: Running, name: str, code: bytes, handler: str, memory: int, rounds: int
) -> tuple[list[float], float]:
    client = running.client()
    client.create_function(
        FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=handler,
        Code={"ZipFile": code}, MemorySize=memory, Timeout=60,
    )  # fmt: skip
    engine = running.platform.engine
    spec = running.platform.store.version_spec(name, "$LATEST")
    payload = EVENT if handler.startswith("strum.") else b"{}"
    running.call(_cold(engine, spec, payload))  # the template's init, when there is one
    times = []
    for _ in range(rounds):
        running.call(_stop_warm(engine, name))
        running.call(asyncio.sleep(0.05))  # the spare fork is prepared off the path
        times.append(running.call(_cold(engine, spec, payload)))
    running.call(_stop_warm(engine, name))
    pss = running.call(_pss(engine, spec, 4))
    return times, pss


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.9) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    if sandbox.probe().bwrap is None:
        print("no sandbox here (bubblewrap): templates need one", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="strum-coldstart-"))
    results: dict[str, Any] = {}
    try:
        built = build(workdir)
        with_templates = Running(workdir / "home-templates", templates=True)
        without = Running(workdir / "home-plain", templates=False)
        try:
            for name, (code, handler, memory, unpacked, extra) in built.items():
                module = "app" if name == "hello" else EXAMPLES[name][1]
                floor_times = floor(unpacked, module, extra, arguments.rounds)
                forked, forked_pss = measure(
                    with_templates, name, code, handler, memory, arguments.rounds
                )
                plain, plain_pss = measure(without, name, code, handler, memory, arguments.rounds)
                results[name] = {
                    "floor_ms": summary(floor_times),
                    "templates_ms": summary(forked),
                    "no_templates_ms": summary(plain),
                    "pss_mib": {
                        "templates": round(forked_pss, 1),
                        "no_templates": round(plain_pss, 1),
                    },
                }
        finally:
            with_templates.stop()
            without.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if arguments.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"cold start, request to response, {arguments.rounds} rounds (median / p90, ms)")
    print(
        f"{'function':10} {'import floor':>16} {'templates':>16} {'x floor':>8} {'no templates':>16} {'PSS tpl':>8} {'PSS old':>8}"
    )
    for name, row in results.items():
        fm, fp = row["floor_ms"]
        tm, tp = row["templates_ms"]
        nm, np_ = row["no_templates_ms"]
        pss = row["pss_mib"]
        print(
            f"{name:10} {fm:7.1f} / {fp:6.1f} {tm:7.1f} / {tp:6.1f} {tm / fm:8.2f} "
            f"{nm:7.1f} / {np_:6.1f} {pss['templates']:7.1f}M {pss['no_templates']:7.1f}M"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
