"""Benchmark strum's Lambda runtime against awslambdaric and bare Python.

Run: ``.venv/bin/python bench/runtime.py [--runs 30] [--invocations 2000]``. Prints:

1. Init cost for a hello-world handler, runs interleaved: process start until the first
   ``GET /next`` reaches a local Runtime API server, and until the first response is
   posted (an event is queued before start, so that is the whole cold start); bare
   ``python -c pass`` (start to exit) as the floor.
2. Warm per-invocation overhead: event sent -> result received, timed at the server,
   over many sequential invocations on one warm process.

Same server (tests/runtime/runtime_api.py), same interpreter, same handler for all.
"strum-c" is the same runtime started with ``python -c`` instead of ``-m``, which skips
runpy's imports (importlib.util, contextlib...): the floor a bootstrap script can reach.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer  # noqa: E402

HELLO = "def handler(event, context):\n    return {'hello': 'world'}\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_start(factory: FunctionFactory, runtime: str) -> tuple[float, float]:
    """(ms to first GET /next, ms to first response) for one fresh process."""
    server = factory.server
    polls = server.next_polls
    request_id = server.enqueue({})
    started = time.perf_counter()
    process = factory.start("hello.handler", runtime=runtime)
    result = server.result(request_id, timeout=30)
    first_next = server.next_poll_times[polls]
    process.stop()
    factory.started.clear()
    return (first_next - started) * 1000, (result.received_at - started) * 1000


def bare_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return (time.perf_counter() - started) * 1000


def warm(factory: FunctionFactory, runtime: str, invocations: int) -> list[float]:
    server = factory.server
    process = factory.start("hello.handler", runtime=runtime)
    for _ in range(50):  # warm-up: imports done, caches hot
        server.result(server.enqueue({}))
    samples = []
    for _ in range(invocations):
        request_id = server.enqueue({})
        result = server.result(request_id)
        samples.append((result.received_at - server.sent_at[request_id]) * 1000)
    process.stop()
    factory.started.clear()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--invocations", type=int, default=2000)
    args = parser.parse_args()

    server = RuntimeAPIServer()
    with tempfile.TemporaryDirectory() as task_root:
        factory = FunctionFactory(Path(task_root), server)
        factory.module("hello", HELLO)
        runtimes = ("strum", "strum-c", "awslambdaric")
        to_next: dict[str, list[float]] = {r: [] for r in runtimes}
        to_response: dict[str, list[float]] = {r: [] for r in runtimes}
        bare: list[float] = []
        for _ in range(args.runs):
            bare.append(bare_python())
            for runtime in runtimes:
                first_next, first_response = cold_start(factory, runtime)
                to_next[runtime].append(first_next)
                to_response[runtime].append(first_response)

        floor = statistics.median(bare)
        print(f"Init, {args.runs} interleaved runs (ms; +x = median over bare python)")
        print(f"{'':34}{'median':>9}{'p90':>9}{'+x':>9}")
        print(f"{'python -c pass (start to exit)':34}{floor:9.1f}{percentile(bare, 0.9):9.1f}")
        for label, table in (("first /next", to_next), ("first response", to_response)):
            for runtime in runtimes:
                values = table[runtime]
                median = statistics.median(values)
                print(
                    f"{runtime + ': ' + label:34}{median:9.1f}"
                    f"{percentile(values, 0.9):9.1f}{median - floor:+9.1f}"
                )

        print(f"\nWarm invocation round trip at the server, {args.invocations} sequential (ms)")
        print(f"{'':34}{'median':>9}{'p99':>9}{'mean':>9}")
        for runtime in ("strum", "awslambdaric"):
            samples = warm(factory, runtime, args.invocations)
            print(
                f"{runtime:34}{statistics.median(samples):9.3f}"
                f"{percentile(samples, 0.99):9.3f}{statistics.fmean(samples):9.3f}"
            )
    server.close()


if __name__ == "__main__":
    main()
