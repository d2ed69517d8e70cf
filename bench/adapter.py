"""Per-request cost of strum's Lambda adapter against its peers, and its import cost.

Every contender turns the same API Gateway event into a request for the same small
Flask (WSGI) or Starlette (ASGI) app and turns the response back into a Lambda dict.
The floor is the app called directly with a prebuilt environ or scope, so
``contender median - floor median`` is what the adapter itself costs. Contenders are
timed round-robin in one process (the order is shuffled every round), so machine noise
lands on all of them alike. Each contender's answer is checked before timing: a
broken adapter stops the run instead of looking fast.

    .venv/bin/python bench/adapter.py            # full run, under ~2 minutes
    .venv/bin/python bench/adapter.py --quick    # smoke run
    .venv/bin/python bench/adapter.py --json     # machine-readable results
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

Handler = Callable[[dict[str, Any], Any], Any]
Decoder = Callable[[Any], tuple[int, bytes]]

NAME = "x"
POST_BODY = b'{"data":"' + b"0123456789abcdef" * 639 + b'01234"}'  # a 10 KB JSON document
assert len(POST_BODY) == 10240
CONTEXT = SimpleNamespace(
    function_name="bench",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
    memory_limit_in_mb=512,
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    log_group_name="/aws/lambda/bench",
    log_stream_name="2024/01/01/[$LATEST]abcdef",
    get_remaining_time_in_millis=lambda: 30000,
)


# --- the apps ---------------------------------------------------------------------


def make_flask_app() -> Any:
    """GET /hello?name=... -> small JSON; POST /echo -> the body's length as text."""
    from flask import Flask, Response, jsonify, request

    app = Flask("bench")

    @app.get("/hello")
    def hello() -> Any:
        return jsonify(hello=request.args.get("name", "world"))

    @app.post("/echo")
    def echo() -> Any:
        return Response(str(len(request.get_data())), mimetype="text/plain")

    return app


def make_starlette_app() -> Any:
    """The Starlette twin of make_flask_app."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Any) -> Any:
        return JSONResponse({"hello": request.query_params.get("name", "world")})

    async def echo(request: Any) -> Any:
        return PlainTextResponse(str(len(await request.body())))

    return Starlette(routes=[Route("/hello", hello), Route("/echo", echo, methods=["POST"])])


# --- the events, shaped like what API Gateway sends ---------------------------------

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


def v1_event(method: str) -> dict[str, Any]:
    """A REST API (payload v1) proxy event; REST APIs reach Lambda through CloudFront."""
    path, query = ("/hello", {"name": NAME}) if method == "GET" else ("/echo", None)
    headers = {
        "Accept": "application/json,text/html;q=0.9,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate, br",
        "Accept-Language": "en-US,en;q=0.9",
        "CloudFront-Forwarded-Proto": "https",
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Is-Mobile-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Tablet-Viewer": "false",
        "CloudFront-Viewer-Country": "US",
        "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "User-Agent": USER_AGENT,
        "Via": "2.0 f0e1d2c3b4a5968778695a4b3c2d1e0f.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": "Nq0vJ3bGbPqAGq1cP9b5y0bQkK6mXq3Q2uT1oX7ZyA0qWbVt5c3s2A==",
        "X-Amzn-Trace-Id": "Root=1-65f1a2b3-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.7, 130.176.1.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if method == "POST":
        headers["Content-Type"] = "application/json"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path[1:]},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "UqQb1G0hoAMFcDg=",
            "requestTime": "13/Mar/2024:09:15:42 +0000",
            # As on a custom domain: no stage prefix. On the execute-api domain strum moves
            # "/prod" into SCRIPT_NAME so the app's URLs work, and Flask's routing with a
            # SCRIPT_NAME costs ~12 us more; peers skip that (their URLs lack the stage),
            # so timing it would measure Flask, not the adapters.
            "path": path,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "a1b2c3d4e5",
            "requestTimeEpoch": 1710321342000,
            "requestId": "4f1c2e5a-9d3b-4c6e-8a7f-0b1c2d3e4f5a",
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": USER_AGENT,
                "user": None,
            },
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "apiId": "a1b2c3d4e5",
        },
        "body": POST_BODY.decode() if method == "POST" else None,
        "isBase64Encoded": False,
    }


def v2_event(method: str) -> dict[str, Any]:
    """An HTTP API (payload v2) event: lower-case headers, rawPath/rawQueryString."""
    path, query = ("/hello", f"name={NAME}") if method == "GET" else ("/echo", "")
    headers = {
        "accept": "application/json,text/html;q=0.9,*/*;q=0.8",
        "accept-encoding": "gzip, deflate, br",
        "accept-language": "en-US,en;q=0.9",
        "host": "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com",
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": "Root=1-65f1a2b3-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if method == "POST":
        headers["content-length"] = str(len(POST_BODY))
        headers["content-type"] = "application/json"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "f6g7h8i9j0",
            "domainName": "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "f6g7h8i9j0",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": USER_AGENT,
            },
            "requestId": "UqQb1G0hoAMEMcw=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "13/Mar/2024:09:15:42 +0000",
            "timeEpoch": 1710321342000,
        },
        "isBase64Encoded": False,
    }
    if method == "GET":
        event["queryStringParameters"] = {"name": NAME}
    else:
        event["body"] = POST_BODY.decode()
    return event


# --- the floor: the app with no adapter in the way ----------------------------------


def request_parts(event: dict[str, Any]) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    """Method, path, query, headers and body of either event shape (setup only, untimed)."""
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
        path, query = event["rawPath"], event["rawQueryString"]
    else:
        method, path = event["httpMethod"], event["path"]
        query = "&".join(f"{k}={v}" for k, v in (event["queryStringParameters"] or {}).items())
    body = (event.get("body") or "").encode()
    return method, path, query, list(event["headers"].items()), body


def wsgi_floor(app: Any, event: dict[str, Any]) -> Handler:
    """Call the WSGI app with a copy of a prebuilt environ and a fresh input stream."""
    method, path, query, headers, body = request_parts(event)
    base = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            base[key] = value
        else:
            base["HTTP_" + key] = value
    if body:
        base["CONTENT_LENGTH"] = str(len(body))

    def handler(event: dict[str, Any], context: Any) -> tuple[int, bytes]:
        status: list[str] = []

        def start_response(s: str, h: Any, exc_info: Any = None) -> Any:
            status.append(s)

        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        result = app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(status[0][:3]), data

    return handler


def asgi_floor(app: Any, event: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Handler:
    """Run the ASGI app with a prebuilt scope on one reused event loop."""
    method, path, query, headers, body = request_parts(event)
    base = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("203.0.113.7", 0),
        "server": ("localhost", 443),
    }
    request_message = {"type": "http.request", "body": body, "more_body": False}

    def handler(event: dict[str, Any], context: Any) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return request_message

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        loop.run_until_complete(app(dict(base), receive, send))
        data = b"".join(m.get("body", b"") for m in sent[1:])
        return sent[0]["status"], data

    return handler


# --- the contenders ----------------------------------------------------------------


def make_zappa_handler(app: Any, *, asgi: bool) -> Handler:
    """Zappa's own per-request code, without its settings module, S3 or AWS.

    On Lambda, Zappa's entry point is ``LambdaHandler.lambda_handler(event, context)``:
    it fetches the process-wide singleton (built once from ``zappa_settings.py``) and
    calls its ``handler(event, context)`` method, which holds the whole per-request
    path. We run that real ``LambdaHandler.handler`` method unchanged. Only the
    one-time setup of ``LambdaHandler.__init__`` is replaced: we build the instance
    with ``object.__new__`` (so two apps can coexist despite the singleton) and give
    it the attributes ``__init__`` would set for ``zappa deploy``'s defaults: the app
    wrapped in ``ZappaWSGIMiddleware`` (or stored as ``asgi_app`` when Zappa's own
    detection says ASGI), ``trailing_slash=False`` (non-Django), the default text
    MIME types, and a settings object with BINARY_SUPPORT=True, DEBUG=False,
    API_STAGE="prod", DOMAIN=None, no BASE_PATH and no context header mappings. So
    each request runs: stage-variable check, v1/v2 dispatch and stage/script-name
    logic, ``create_wsgi_request`` (or ``create_asgi_scope`` plus ``ASGIHandler``,
    which makes a new event loop per request), ``Response.from_app`` through the
    middleware, body encoding, header building and the Common Log line
    (``common_log`` formats it; ``logger.info`` then drops it because we do not
    raise the root log level as a LOG_LEVEL setting would, which slightly flatters
    Zappa). Left out: the singleton lookup and ``try`` in ``lambda_handler``.
    """
    from zappa.handler import LambdaHandler
    from zappa.middleware import ZappaWSGIMiddleware
    from zappa.utilities import DEFAULT_TEXT_MIMETYPES

    zappa = object.__new__(LambdaHandler)
    zappa.settings = SimpleNamespace(
        DEBUG=False,
        API_STAGE="prod",
        DOMAIN=None,
        BASE_PATH=None,
        BINARY_SUPPORT=True,
        CONTEXT_HEADER_MAPPINGS={},
        EXCEPTION_HANDLER=None,
    )
    zappa.trailing_slash = False
    zappa._text_mimetypes = DEFAULT_TEXT_MIMETYPES
    assert LambdaHandler._is_asgi_app(app) == asgi
    if asgi:
        zappa.app_type, zappa.asgi_app, zappa.wsgi_app = "asgi", app, None
    else:
        zappa.app_type, zappa.wsgi_app = None, ZappaWSGIMiddleware(app)
    return zappa.handler


def load_make_handler() -> tuple[Callable[..., Handler] | None, str]:
    """strum.make_handler from src/, or None and why not."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    try:
        from strum import make_handler
    except ImportError as exc:
        return None, f"strum.make_handler is not importable yet ({exc}); strum skipped"
    return make_handler, ""


def wsgi_contenders(app: Any, make_handler: Callable[..., Handler] | None) -> dict[str, Handler]:
    from apig_wsgi import make_lambda_handler
    from serverless_wsgi import handle_request

    contenders: dict[str, Handler] = {}
    if make_handler is not None:
        contenders["strum"] = make_handler(app)
    contenders["apig-wsgi"] = make_lambda_handler(app)
    contenders["serverless-wsgi"] = lambda event, context: handle_request(app, event, context)
    contenders["zappa"] = make_zappa_handler(app, asgi=False)
    return contenders


def asgi_contenders(app: Any, make_handler: Callable[..., Handler] | None) -> dict[str, Handler]:
    from mangum import Mangum

    contenders: dict[str, Handler] = {}
    if make_handler is not None:
        contenders["strum"] = make_handler(app)
    contenders["mangum lifespan=off"] = Mangum(app, lifespan="off")
    contenders["mangum lifespan=auto"] = Mangum(app, lifespan="auto")
    contenders["zappa"] = make_zappa_handler(app, asgi=True)
    return contenders


# --- checking and timing -------------------------------------------------------------


def lambda_response(response: Any) -> tuple[int, bytes]:
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return response["statusCode"], data


def floor_response(response: Any) -> tuple[int, bytes]:
    return response  # type: ignore[no-any-return]


@dataclass
class Case:
    """One app x event shape x method, with everything that answers it."""

    app: str
    payload: str
    method: str
    event: dict[str, Any]
    handlers: dict[str, Handler]
    samples: dict[str, list[int]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        target = f"GET /hello?name={NAME}" if self.method == "GET" else "POST /echo (10 KB)"
        return f"{self.app} | API Gateway {self.payload} | {target}"

    def check(self) -> None:
        """Every contender must answer 200 with the floor's body and leave the event alone."""
        pristine = copy.deepcopy(self.event)
        status, expected = self.handlers["floor"](self.event, CONTEXT)
        want = (
            f'"hello":"{NAME}"'.encode() if self.method == "GET" else str(len(POST_BODY)).encode()
        )
        if status != 200 or want not in expected.replace(b" ", b""):
            raise SystemExit(f"{self.title}: the floor itself answered {status} {expected[:80]!r}")
        for name, handler in self.handlers.items():
            decode = floor_response if name == "floor" else lambda_response
            for _ in range(3):  # the first call may differ (lazy setup, lifespan startup)
                try:
                    got = decode(handler(self.event, CONTEXT))
                except Exception as exc:
                    raise SystemExit(f"{self.title}: {name} raised {exc!r}") from exc
                if got != (200, expected):
                    raise SystemExit(
                        f"{self.title}: {name} answered {got[0]} {got[1][:80]!r}, "
                        f"expected 200 {expected[:80]!r}"
                    )
            if self.event != pristine:
                raise SystemExit(f"{self.title}: {name} mutated the event")

    def run_block(self, name: str, requests: int) -> None:
        handler, event, clock = self.handlers[name], self.event, time.perf_counter_ns
        out = self.samples.setdefault(name, [])
        for _ in range(requests):
            start = clock()
            handler(event, CONTEXT)
            out.append(clock() - start)


def p99(values: list[int]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def summarize(case: Case) -> dict[str, Any]:
    """Median, p99 and overhead over the floor per contender, in microseconds."""
    rows = {}
    for name in case.handlers:  # floor, strum, then the peers, whatever order they ran in
        s = case.samples[name]
        rows[name] = {
            "median_us": statistics.median(s) / 1000,
            "p99_us": p99(s) / 1000,
            "n": len(s),
        }
    floor = rows["floor"]["median_us"]
    for row in rows.values():
        row["overhead_us"] = row["median_us"] - floor
    peers = [r["overhead_us"] for n, r in rows.items() if n not in ("floor", "strum")]
    best = min(peers)
    if "strum" in rows:
        rows["strum"]["ratio_to_best_peer"] = (
            rows["strum"]["overhead_us"] / best if best > 0 else None
        )
    return {
        "app": case.app,
        "payload": case.payload,
        "method": case.method,
        "title": case.title,
        "best_peer_overhead_us": best,
        "contenders": rows,
    }


def build_cases(make_handler: Callable[..., Handler] | None) -> tuple[list[Case], list[str]]:
    loop = asyncio.new_event_loop()
    flask_app, starlette_app = make_flask_app(), make_starlette_app()
    wsgi = wsgi_contenders(flask_app, make_handler)
    asgi = asgi_contenders(starlette_app, make_handler)
    cases = []
    for app_name, app, contenders in (
        ("Flask", flask_app, wsgi),
        ("Starlette", starlette_app, asgi),
    ):
        for payload, make_event in (("v1 REST", v1_event), ("v2 HTTP", v2_event)):
            for method in ("GET", "POST"):
                event = make_event(method)
                floor = (
                    asgi_floor(app, event, loop)
                    if app_name == "Starlette"
                    else wsgi_floor(app, event)
                )
                cases.append(Case(app_name, payload, method, event, {"floor": floor, **contenders}))
    notes = [
        "Every peer handles both payload versions: zappa 0.63 reads v2 and runs ASGI apps,"
        " serverless-wsgi reads v2; so no combination is n/a.",
        "zappa's ASGI path creates a new event loop for every request (zappa/asgi.py"
        " ASGIHandler.run); mangum lifespan=auto runs lifespan startup/shutdown per request.",
    ]
    return cases, notes


def run_latency(cases: list[Case], rounds: int, requests: int) -> None:
    blocks = [(case, name) for case in cases for name in case.handlers]
    for case in cases:
        case.check()
        for name in case.handlers:  # warm caches and lazy paths before timing
            case.run_block(name, requests // 4 or 1)
        case.samples.clear()
    order = random.Random(20240313)
    for _ in range(rounds):
        order.shuffle(blocks)  # a fresh order each round: no fixed place, no fixed neighbour
        for case, name in blocks:
            case.run_block(name, requests)


# --- import cost ---------------------------------------------------------------------

IMPORTS = {
    "strum (import strum)": "import strum",
    "strum (from strum import make_handler)": "from strum import make_handler",
    "apig-wsgi": "import apig_wsgi",
    "serverless-wsgi": "import serverless_wsgi",
    "mangum": "from mangum import Mangum",
    "zappa (zappa.handler)": "import zappa.handler",
}


def importtime_modules(code: str, env: dict[str, str]) -> dict[str, int]:
    """Module -> self microseconds, from ``python -X importtime -c code``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {}
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            modules[parts[2].strip()] = int(parts[0])
    return modules


def run_imports(runs: int, strum_ok: bool) -> dict[str, dict[str, float]]:
    """Wall time of a fresh interpreter importing each target, minus a bare one."""
    # Time imports from cached bytecode, as a deployed package with its .pyc files
    # would load them. PYTHONDONTWRITEBYTECODE (set on our dev machines) would make
    # src/strum compile from source on every run while the peers load .pyc files;
    # the cache goes to a temporary directory so the work tree is left alone.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(SRC)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="strum-bench-pyc-")
    try:
        return time_imports(runs, strum_ok, env)
    finally:
        shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)


def time_imports(runs: int, strum_ok: bool, env: dict[str, str]) -> dict[str, dict[str, float]]:
    targets = {"baseline": "pass", **IMPORTS}
    if not strum_ok:
        targets = {k: v for k, v in targets.items() if not k.startswith("strum")}
    walls: dict[str, list[float]] = {name: [] for name in targets}
    for code in targets.values():  # write .pyc files before anything is timed
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    for _ in range(runs):
        for name, code in targets.items():
            start = time.perf_counter_ns()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            walls[name].append((time.perf_counter_ns() - start) / 1e6)
    baseline_modules = importtime_modules("pass", env)
    baseline = statistics.median(walls.pop("baseline"))
    targets.pop("baseline")
    results = {}
    for name, code in targets.items():
        totals = []
        for _ in range(max(3, runs // 4)):
            modules = importtime_modules(code, env)
            totals.append(sum(us for m, us in modules.items() if m not in baseline_modules))
        results[name] = {
            "wall_ms": statistics.median(walls[name]) - baseline,
            "importtime_self_total_ms": statistics.median(totals) / 1000,
            "modules": len(set(modules) - set(baseline_modules)),
        }
    return results


# --- output --------------------------------------------------------------------------


def print_case(summary: dict[str, Any]) -> None:
    print(f"\n{summary['title']}")
    print(f"  {'contender':<22}{'median us':>11}{'p99 us':>10}{'overhead us':>13}  strum/best peer")
    for name, row in summary["contenders"].items():
        overhead = "-" if name == "floor" else f"{row['overhead_us']:.1f}"
        ratio = ""
        if name == "strum":
            r = row["ratio_to_best_peer"]
            ratio = (
                "n/a" if r is None else f"{r:.2f} ({'ok' if r <= 1 / 3 else 'MISSES'} goal <= 0.33)"
            )
        print(f"  {name:<22}{row['median_us']:>11.1f}{row['p99_us']:>10.1f}{overhead:>13}  {ratio}")


def print_imports(results: dict[str, dict[str, float]]) -> None:
    print("\nImport cost (fresh interpreter, median wall minus bare `python -c pass`)")
    print(f"  {'target':<40}{'wall ms':>9}{'importtime self ms':>20}{'modules':>9}")
    for name, row in results.items():
        print(
            f"  {name:<40}{row['wall_ms']:>9.2f}{row['importtime_self_total_ms']:>20.2f}"
            f"{row['modules']:>9}"
        )
    strum = results.get("strum (from strum import make_handler)")
    if strum:
        verdict = "ok" if strum["wall_ms"] < 5 else "MISSES"
        print(f"  strum adapter import: {strum['wall_ms']:.2f} ms wall ({verdict} goal < 5 ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--rounds", type=int, help="rounds over all contenders (default 30)")
    parser.add_argument("--requests", type=int, help="requests per contender per round (300)")
    parser.add_argument("--no-imports", action="store_true", help="skip the import-cost part")
    parser.add_argument("--no-latency", action="store_true", help="skip the per-request part")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 30)
    requests = args.requests or (60 if args.quick else 300)

    make_handler, skipped = load_make_handler()
    cases, notes = build_cases(make_handler)
    if skipped:
        notes.insert(0, skipped)
    if not args.json:
        for note in notes:
            print(f"note: {note}")
        print(f"timing {rounds} rounds x {requests} requests per contender per case ...")
    started = time.perf_counter()
    summaries = []
    if not args.no_latency:
        run_latency(cases, rounds, requests)
        summaries = [summarize(case) for case in cases]
    imports = (
        {} if args.no_imports else run_imports(5 if args.quick else 20, make_handler is not None)
    )
    elapsed = time.perf_counter() - started

    if args.json:
        out = {
            "python": sys.version.split()[0],
            "rounds": rounds,
            "requests": requests,
            "notes": notes,
            "cases": summaries,
            "imports": imports,
        }
        print(json.dumps(out, indent=2))
        return 0
    for summary in summaries:
        print_case(summary)
    ratios = [c["contenders"]["strum"].get("ratio_to_best_peer") for c in summaries]
    ratios = [r for r in ratios if r is not None] if "strum" in cases[0].handlers else []
    if ratios:
        met = sum(r <= 1 / 3 for r in ratios)
        print(f"\nstrum meets the <= 1/3 overhead goal in {met} of {len(ratios)} cases")
    if imports:
        print_imports(imports)
    print(f"\n({elapsed:.0f} s; Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
