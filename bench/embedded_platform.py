"""Benchmark strum's embedded platform, side by side in one run (issue 4's Benchmark section).

Run: ``.venv/bin/python bench/embedded_platform.py [--quick] [--no-js]``. Prints:

1. Warm latency through a Function URL: a hello-world WSGI app behind ``make_handler``,
   sequential requests on one keep-alive connection (goal p50 <= 1 ms, p99 <= 5 ms).
2. Throughput with 2 instances (2 concurrent clients) against the same app under gunicorn
   with 2 sync workers, same client (goal >= 60 % of gunicorn's).
3. Cold start, request to response with no warm instance (each round changes the
   function's configuration, which retires its instances): hello-world Python (goal
   median <= 60 ms).
4. Platform RSS with 100 functions deployed, each invoked once, then scaled to zero (goal
   <= 80 MB).
5. The published custom-runtime workload (SHA3-512 of a string, 50 iterations) as Python
   (strum's runtime), Node.js, Deno and Bun (``provided.al2023`` bootstraps speaking the
   Runtime API), cold and warm, avg/p10/p50/p90 like the published AWS table. Deno and
   Bun come from the npm registry (``npm install deno bun`` into a temporary directory);
   a runtime that cannot be had is skipped with a note.

Each platform runs as its own process (``strum.platform.server.serve``) on ephemeral
loopback ports with a fresh ``$STRUM_HOME``; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
ROLE = "arn:aws:iam::000000000000:role/bench"

HELLO_WSGI = """
from strum import make_handler

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world!"]

handler = make_handler(app)
"""

HELLO_FUNCTION = "def handler(event, context):\n    return {'hello': 'world'}\n"

SHA3_PYTHON = """
import hashlib

def handler(event, context):
    digest = "strum"
    for _ in range(50):
        digest = hashlib.sha3_512(digest.encode()).hexdigest()
    return {"statusCode": 200, "body": digest}
"""

# One Runtime API client for Node, Deno and Bun: fetch and node:crypto exist in all three.
SHA3_JS = """
import { createHash } from "node:crypto";

const address = globalThis.Deno
  ? Deno.env.get("AWS_LAMBDA_RUNTIME_API")
  : process.env.AWS_LAMBDA_RUNTIME_API;
const api = `http://${address}/2018-06-01/runtime/invocation`;

function work() {
  let digest = "strum";
  for (let i = 0; i < 50; i++) digest = createHash("sha3-512").update(digest).digest("hex");
  return { statusCode: 200, body: digest };
}

for (;;) {
  const next = await fetch(`${api}/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  await next.arrayBuffer();
  await fetch(`${api}/${id}/response`, { method: "POST", body: JSON.stringify(work()) });
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_zip(files: dict[str, str], executable: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


# -- a platform process -------------------------------------------------------------------

PLATFORM_PROCESS = """
import asyncio, contextlib, json, signal, sys
from pathlib import Path
from strum.platform.home import Home
from strum.platform.server import serve
try:
    from strum.platform.settings import Settings
except ImportError:  # a tree from before the settings module (for side-by-side runs)
    from strum.platform.server import Settings

async def main():
    settings = Settings(port=0, **json.loads(sys.argv[2]))
    task = asyncio.ensure_future(serve(Home(Path(sys.argv[1])), settings))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task

asyncio.run(main())
"""


@contextmanager
def platform_process(**settings: Any) -> Iterator[tuple[str, int]]:
    """A platform on a fresh home in a process of its own: (endpoint, pid)."""
    with tempfile.TemporaryDirectory(prefix="strum-bench-") as directory:
        home = Path(directory) / "home"
        process = subprocess.Popen(
            [sys.executable, "-c", PLATFORM_PROCESS, str(home), json.dumps(settings)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            address = home / "platform.json"
            deadline = time.monotonic() + 30
            while not address.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the platform did not start")
                time.sleep(0.02)
            endpoint = json.loads(address.read_text())["endpoint"]
            _HOMES[endpoint] = home
            yield endpoint, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# The home of each platform process, so clients can sign with its owner key.
_HOMES: dict[str, Path] = {}


def remember_home(endpoint: str, home: Path) -> None:
    """Note where the platform at ``endpoint`` keeps its keys (for ``lambda_client``)."""
    _HOMES[endpoint] = home


def lambda_client(endpoint: str) -> Any:
    """A boto3 client signing with the platform's owner key (a platform from before keys
    were issued takes any key; the bench runs against such trees too, for comparisons)."""
    import boto3
    from botocore.config import Config

    keys = _HOMES[endpoint] / "identity" / "keys.json"
    key_id, secret = "strum", "strum"
    if keys.exists():
        owner = next(k for k in json.loads(keys.read_text())["keys"] if k["name"] == "owner")
        key_id, secret = owner["access_key_id"], owner["secret"]
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def deploy(
    client: Any,
    name: str,
    package: bytes,
    *,
    runtime: str = PYTHON_RUNTIME,
    handler: str = "app.handler",
    memory: int = 512,
    env: dict[str, str] | None = None,
    url: bool = True,
) -> str | None:
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": package},
        MemorySize=memory,
        Timeout=30,
        Environment={"Variables": env or {}},
    )
    if not url:
        return None
    return str(client.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"])


class Connection:
    """One keep-alive HTTP/1.1 connection; ``get`` answers (status, body, seconds)."""

    def __init__(self, url: str) -> None:
        import http.client

        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, path: str = "/") -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started

    def close(self) -> None:
        self.connection.close()


def timed_get(url: str) -> tuple[int, bytes, float]:
    connection = Connection(url)
    try:
        started = time.perf_counter()
        status, body, _ = connection.get(urlsplit(url).path or "/")
        return status, body, time.perf_counter() - started
    finally:
        connection.close()


def sequential(url: str, count: int, limit_s: float) -> list[float]:
    """Latencies (s) of up to ``count`` sequential requests on one connection."""
    connection = Connection(url)
    latencies: list[float] = []
    deadline = time.monotonic() + limit_s
    try:
        while len(latencies) < count and time.monotonic() < deadline:
            status, _, seconds = connection.get()
            if status != 200:
                raise RuntimeError(f"status {status}")
            latencies.append(seconds)
    finally:
        connection.close()
    return latencies


def throughput(url: str, concurrency: int, duration_s: float) -> float:
    """Requests per second that ``concurrency`` clients get in ``duration_s``."""
    import aiohttp

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(concurrency * 5):  # warm every instance / worker
                async with session.get(url) as response:
                    await response.read()
            done = 0
            stop_at = time.perf_counter() + duration_s

            async def worker() -> None:
                nonlocal done
                while time.perf_counter() < stop_at:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"status {response.status}")
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return done / (time.perf_counter() - started)

    return asyncio.run(run())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(workers: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="strum-bench-gunicorn-") as directory:
        Path(directory, "hello.py").write_text(HELLO_WSGI)
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "hello:app"],
            cwd=directory, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if timed_get(url)[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


# -- the sections -------------------------------------------------------------------------


def bench_warm_and_throughput(quick: bool) -> None:
    print("\n## 1-2. Hello-world WSGI app through a Function URL")
    duration = 2.0 if quick else 5.0
    with platform_process() as (endpoint, _):
        client = lambda_client(endpoint)
        url = deploy(client, "hello", make_zip({"app.py": HELLO_WSGI}))
        assert url is not None
        status, body, _ = timed_get(url)
        assert (status, body) == (200, b"Hello, world!"), (status, body)
        sequential(url, 200, 10)  # warm-up
        latencies = sequential(url, 500 if quick else 3000, 30)
        ms = [s * 1000 for s in latencies]
        print(
            f"warm latency, {len(ms)} sequential requests on one connection: "
            f"p50 {percentile(ms, 0.5):.2f} ms, p90 {percentile(ms, 0.9):.2f} ms, "
            f"p99 {percentile(ms, 0.99):.2f} ms, mean {statistics.fmean(ms):.2f} ms "
            "(goal p50 <= 1 ms, p99 <= 5 ms)"
        )
        platform_rps = throughput(url, 2, duration)
    try:
        with gunicorn(2) as url:
            gunicorn_rps = throughput(url, 2, duration)
    except (OSError, RuntimeError) as exc:
        print(f"throughput: platform {platform_rps:.0f} req/s; gunicorn unavailable ({exc})")
        return
    print(
        f"throughput, 2 concurrent clients for {duration:.0f} s: platform (2 instances) "
        f"{platform_rps:.0f} req/s, gunicorn (2 sync workers) {gunicorn_rps:.0f} req/s = "
        f"{100 * platform_rps / gunicorn_rps:.0f} % of gunicorn (goal >= 60 %)"
    )


def cold_starts(client: Any, name: str, url: str, rounds: int) -> list[float]:
    """Request-to-response times (s) with no warm instance, ``rounds`` times."""
    times: list[float] = []
    for index in range(rounds):
        # A configuration change retires the function's instances: the next request is cold.
        variables = client.get_function_configuration(FunctionName=name).get("Environment", {})
        env = {**variables.get("Variables", {}), "BENCH_ROUND": str(index)}
        client.update_function_configuration(FunctionName=name, Environment={"Variables": env})
        status, body, seconds = timed_get(url)
        if status != 200:
            raise RuntimeError(f"{name}: status {status}: {body[:200]!r}")
        times.append(seconds)
    return times


def bench_identity_cost(quick: bool) -> None:
    """What signing-in and authorising adds to one request, measured in-process on a
    request botocore signed: SigV4 verification (body hash included) plus the policy check."""
    try:
        from strum.platform.identity import Authority, KeyRing, SessionIssuer
    except ImportError:
        return
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    print("\n## 1c. Identity per request (in process): SigV4 check + policy evaluation")
    rounds = 2000 if quick else 20000
    with tempfile.TemporaryDirectory() as directory:
        keys = KeyRing(Path(directory) / "keys.json")
        owner = keys.ensure_owner()
        named = keys.create(
            "one-function",
            json.dumps(
                {
                    "Statement": [
                        {"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "lambda:Delete*", "Resource": "*"},
                    ]
                }
            ),
        )
        authority = Authority(
            keys=keys,
            sessions=SessionIssuer(os.urandom(32)),
            function_policy=lambda session: None,
            account="000000000000",
        )
        for label, key, body in (
            ("owner, GET, no body", owner, b""),
            ("named key, 1 KB body", named, b"x" * 1024),
            ("named key, 1 MB body", named, b"x" * 1024 * 1024),
        ):
            request = AWSRequest(
                method="POST",
                url="http://127.0.0.1:8700/2015-03-31/functions/hello/configuration",
                data=body,
            )
            SigV4Auth(Credentials(key.access_key_id, key.secret), "lambda", "us-east-1").add_auth(
                request
            )
            headers = {k.lower(): v for k, v in request.headers.items()}
            headers["host"] = "127.0.0.1:8700"
            arn = "arn:aws:lambda:us-east-1:000000000000:function:hello"
            count = rounds if len(body) < 100_000 else max(rounds // 20, 50)
            times = []
            for _ in range(count):
                start = time.perf_counter()
                caller = authority.authenticate(
                    method="POST",
                    raw_path="/2015-03-31/functions/hello/configuration",
                    headers=headers,
                    body=body,
                )
                authority.authorize(caller, "lambda:GetFunctionConfiguration", arn)
                times.append((time.perf_counter() - start) * 1e6)
            print(
                f"{label:<24} {count} requests: p50 {percentile(times, 0.5):.1f} us, "
                f"p90 {percentile(times, 0.9):.1f} us (goal: control plane within 0.2 ms)"
            )


def bench_control_plane(quick: bool) -> None:
    print("\n## 1b. Control plane: boto3 calls, one kept-alive connection")
    calls = 300 if quick else 2000
    with platform_process() as (endpoint, _):
        client = lambda_client(endpoint)
        deploy(client, "hello", make_zip({"app.py": HELLO_FUNCTION}), url=False)
        for label, call in (
            (
                "GetFunctionConfiguration",
                lambda: client.get_function_configuration(FunctionName="hello"),
            ),
            ("ListFunctions", lambda: client.list_functions()),
            (
                "Invoke (RequestResponse)",
                lambda: client.invoke(FunctionName="hello", Payload=b"{}"),
            ),
        ):
            for _ in range(30):
                call()  # warm-up
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            print(
                f"{label:<26} {calls} calls: p50 {percentile(times, 0.5):.3f} ms, "
                f"p90 {percentile(times, 0.9):.3f} ms, mean {statistics.fmean(times):.3f} ms "
                "(signed and authorised per call; goal within 0.2 ms of unsigned)"
            )
        client.close()


def bench_cold_start(quick: bool) -> None:
    print("\n## 3. Cold start, hello-world Python, request to response")
    print("Side by side: no sandbox; sandboxed with network declared (filesystem, PID and")
    print("user namespaces, cgroups); fully sandboxed (also a network namespace).")
    rounds = 5 if quick else 20
    medians: dict[str, float] = {}
    for label, sandboxed, network in (
        ("no sandbox", False, True),
        ("sandbox, network declared", True, True),
        ("sandbox, no network", True, False),
    ):
        with platform_process(sandbox=sandboxed) as (endpoint, _):
            client = lambda_client(endpoint)
            url = deploy(client, "cold", make_zip({"app.py": HELLO_FUNCTION}))
            assert url is not None
            if network:
                set_permissions(endpoint, "cold", {"Network": True})
            timed_get(url)  # the first cold start of a version compiles its bytecode
            ms = [s * 1000 for s in cold_starts(client, "cold", url, rounds)]
            medians[label] = statistics.median(ms)
            print(
                f"{label:>28}: {len(ms)} cold starts, median {statistics.median(ms):.1f} ms, "
                f"p10 {percentile(ms, 0.1):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms"
            )
    added = medians["sandbox, no network"] - medians["no sandbox"]
    print(
        f"sandbox overhead on the median cold start: {added:+.1f} ms (goal < 10 ms); "
        "goal median <= 60 ms; AWS managed Node 152 ms, LocalStack 0.7 s"
    )


def api_request(
    endpoint: str,
    path: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> urllib.request.Request:
    """A request to the platform's API, signed with its owner key when it has one."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    keys = _HOMES[endpoint] / "identity" / "keys.json"
    if keys.exists():
        from strum.runtime.sigv4 import sign

        owner = next(k for k in json.loads(keys.read_text())["keys"] if k["name"] == "owner")
        headers = sign(
            method=method,
            host=urlsplit(endpoint).netloc,
            raw_path=path,
            body=data or b"",
            access_key=owner["access_key_id"],
            secret=owner["secret"],
            region="us-east-1",
            headers=headers,
        )
    return urllib.request.Request(endpoint + path, data=data, method=method, headers=headers)


def set_permissions(endpoint: str, name: str, permissions: dict[str, Any]) -> None:
    """strum's StrumPermissions extension (boto3 does not know it)."""
    request = api_request(
        endpoint,
        f"/2015-03-31/functions/{name}/configuration",
        data=json.dumps({"StrumPermissions": permissions}).encode(),
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_rss(quick: bool) -> None:
    count = 20 if quick else 100
    print(f"\n## 4. Platform RSS, {count} functions deployed, scaled to zero")
    with platform_process(idle_timeout_s=1.0) as (endpoint, pid):
        client = lambda_client(endpoint)
        before = rss_kb(pid)
        package = make_zip({"app.py": HELLO_FUNCTION})
        for index in range(count):
            name = f"fn{index:03d}"
            deploy(client, name, package, url=index % 2 == 0)
            client.invoke(FunctionName=name, Payload=b"{}")
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status_request = api_request(endpoint, "/strum/v1/status")
            with urllib.request.urlopen(status_request, timeout=10) as answer:
                status = json.loads(answer.read())
            if status["engine"]["instances"]["total"] == 0:
                break
            time.sleep(0.25)
        total = status["engine"]["instances"]["total"]
        after = rss_kb(pid)
        print(
            f"platform RSS: {before / 1024:.1f} MB at start, {after / 1024:.1f} MB with {count} "
            f"functions ({count // 2} with a URL listener) after scaling to zero "
            f"({total} instances left) (goal <= 80 MB)"
        )


def npm_runtimes(directory: Path) -> dict[str, str]:
    """Paths of the deno and bun binaries from npm ({} entries for what failed)."""
    found: dict[str, str] = {}
    npm = shutil.which("npm")
    if npm is None:
        print("note: npm not found; Deno and Bun skipped")
        return found
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), "deno", "bun"],
            check=True, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"note: npm install deno bun failed ({exc}); Deno and Bun skipped")
        return found
    for name in ("deno", "bun"):
        binary = directory / "node_modules" / ".bin" / name
        try:
            subprocess.run([str(binary), "--version"], check=True, timeout=60, capture_output=True)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"note: {name} from npm does not run here ({exc}); skipped")
            continue
        found[name] = str(binary.resolve())
    return found


def js_package(command: str) -> bytes:
    bootstrap = f'#!/bin/sh\nexec {command} "$LAMBDA_TASK_ROOT/runtime.mjs"\n'
    return make_zip({"bootstrap": bootstrap, "runtime.mjs": SHA3_JS}, executable=("bootstrap",))


def bench_sha3(quick: bool, with_js: bool) -> None:
    print("\n## 5. Custom-runtime workload: SHA3-512, 50 iterations (ms, request to response)")
    rounds_cold, rounds_warm = (3, 30) if quick else (10, 200)
    with tempfile.TemporaryDirectory(prefix="strum-bench-js-") as directory:
        contenders: dict[str, tuple[bytes, str, dict[str, str]]] = {
            "Python (strum runtime)": (make_zip({"app.py": SHA3_PYTHON}), PYTHON_RUNTIME, {}),
        }
        if with_js:
            node = shutil.which("node")
            if node:
                contenders["Node.js"] = (js_package(node), "provided.al2023", {})
            else:
                print("note: node not found; Node.js skipped")
            binaries = npm_runtimes(Path(directory))
            if "deno" in binaries:
                deno_dir = "/tmp/deno-cache"  # the instance's own /tmp (sandboxed)
                contenders["Deno"] = (
                    js_package(f"{binaries['deno']} run --allow-env --allow-net"),
                    "provided.al2023",
                    {"DENO_DIR": deno_dir, "DENO_NO_UPDATE_CHECK": "1"},
                )
            if "bun" in binaries:
                contenders["Bun"] = (js_package(binaries["bun"]), "provided.al2023", {})
        rows: list[tuple[str, list[float], list[float]]] = []
        with platform_process() as (endpoint, _):
            client = lambda_client(endpoint)
            for index, (label, (package, runtime, env)) in enumerate(contenders.items()):
                name = f"sha3-{index}"
                url = deploy(client, name, package, runtime=runtime, memory=1024, env=env)
                assert url is not None
                # The npm-installed binaries live outside the sandbox's view: declare them.
                set_permissions(endpoint, name, {"Network": False, "Files": [directory]})
                try:
                    status, body, _ = timed_get(url)
                    if status != 200:
                        raise RuntimeError(f"status {status}: {body[:300]!r}")
                    cold = cold_starts(client, name, url, rounds_cold)
                    warm = sequential(url, rounds_warm, 60)
                except (OSError, RuntimeError) as exc:
                    print(f"note: {label} failed: {exc}")
                    continue
                rows.append((label, [s * 1000 for s in cold], [s * 1000 for s in warm]))
    print("\n| runtime | cold avg | p10 | p50 | p90 | warm avg | p10 | p50 | p90 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, cold, warm in rows:
        cells = [
            f"{value:.1f}"
            for series in (cold, warm)
            for value in (
                statistics.fmean(series),
                percentile(series, 0.1),
                percentile(series, 0.5),
                percentile(series, 0.9),
            )
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        "| AWS (published) | Node.js managed 152, Deno container 267, Bun layer 548 | | | | "
        "Deno 13.7, Node.js 21.3, Bun 50.5 | | | |"
    )
    print(f"({rounds_cold} cold starts and {rounds_warm} warm requests per runtime)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, rough numbers")
    parser.add_argument("--no-js", action="store_true", help="skip Node.js, Deno and Bun")
    options = parser.parse_args()
    print(f"strum platform benchmark - Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_warm_and_throughput(options.quick)
    bench_identity_cost(options.quick)
    bench_control_plane(options.quick)
    bench_cold_start(options.quick)
    bench_rss(options.quick)
    bench_sha3(options.quick, not options.no_js)


if __name__ == "__main__":
    main()
