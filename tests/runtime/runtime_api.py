"""A real, small Lambda Runtime API server for the runtime tests and bench/runtime.py.

It speaks the same HTTP as AWS's: long-poll ``GET /next`` that blocks until the test
queues an event, ``POST .../response`` (plain or chunked streaming with trailers),
``POST .../error`` and ``POST /runtime/init/error``. Everything it receives is recorded
so tests assert on what actually went over the wire, for strum's runtime and for
``awslambdaric`` alike.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SRC = str(Path(__file__).resolve().parents[2] / "src")
PREFIX = "/2018-06-01/runtime"
BOOTSTRAP_C = "import sys; from strum.runtime._bootstrap import main; sys.exit(main())"


@dataclass
class Posted:
    """One thing the runtime posted back: a response, an invocation error or an init error."""

    kind: str  # "response" | "error" | "init_error"
    request_id: str
    headers: dict[str, str]
    body: bytes
    chunks: list[bytes] = field(default_factory=list)  # streaming only
    trailers: dict[str, str] = field(default_factory=dict)
    connection: int = 0
    received_at: float = 0.0  # perf_counter when the post was fully read

    def json(self) -> Any:
        return json.loads(self.body)


class RuntimeAPIServer(ThreadingHTTPServer):
    """The Runtime API on an ephemeral loopback port; ``address`` is ``host:port``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.address = f"127.0.0.1:{self.server_address[1]}"
        self.events: queue.Queue[tuple[str, bytes, dict[str, str]]] = queue.Queue()
        self.posted: list[Posted] = []
        self.connections: list[int] = []  # one id per accepted TCP connection
        self.next_polls = 0  # GET /next requests seen
        self.next_poll_times: list[float] = []  # perf_counter of every GET /next
        self.sent_at: dict[str, float] = {}  # request id -> perf_counter the event was sent
        self.on_chunk: Callable[[int], object] | None = None  # called as each chunk arrives
        self.drop_after_posts = 0  # silently close the connection after this many POSTs
        self.closing = False
        self.changed = threading.Condition()
        self._ids = itertools.count(1)
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def enqueue(
        self,
        event: Any = None,
        *,
        raw: bytes | None = None,
        deadline_ms: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Queue an invocation; returns its request id."""
        request_id = f"req-{next(self._ids):04d}"
        body = raw if raw is not None else json.dumps(event).encode()
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 30_000
        sent = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:fn",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        self.events.put((request_id, body, sent))
        return request_id

    def record(self, posted: Posted) -> None:
        with self.changed:
            self.posted.append(posted)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Block until ``predicate()`` is truthy (re-checked on every request)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (value := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"runtime API server: condition not met in {timeout} s")
                self.changed.wait(remaining)
            return value

    def result(self, request_id: str, timeout: float = 10.0) -> Posted:
        """The response or error posted for ``request_id``."""
        return self.wait_for(
            lambda: next((p for p in self.posted if p.request_id == request_id), None), timeout
        )

    def init_error(self, timeout: float = 10.0) -> Posted:
        return self.wait_for(
            lambda: next((p for p in self.posted if p.kind == "init_error"), None), timeout
        )

    def wait_idle(self, polls: int, timeout: float = 10.0) -> None:
        """Wait until the runtime has sent its ``polls``-th ``GET /next`` (it is then idle)."""
        self.wait_for(lambda: self.next_polls >= polls, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Tests kill function processes mid-poll; a reset connection is expected there.
        pass

    def close(self) -> None:
        self.closing = True
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like AWS's Runtime API
    server: RuntimeAPIServer

    def setup(self) -> None:
        super().setup()
        # http.server writes headers and body separately; without this, Nagle's algorithm
        # plus the client's delayed ACK adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.changed:
            self.connection_id = len(self.server.connections) + 1
            self.server.connections.append(self.connection_id)

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            return self._reply(404, b'{"errorMessage":"not found"}')
        with self.server.changed:
            self.server.next_polls += 1
            self.server.next_poll_times.append(time.perf_counter())
            self.server.changed.notify_all()
        while True:
            try:
                request_id, body, headers = self.server.events.get(timeout=0.05)
            except queue.Empty:
                if self.server.closing:
                    self.close_connection = True
                    return
                continue
            if self._client_alive():
                break
            # The function process died while polling (a test stopped it): hand the event
            # to the next poller instead of writing it into a dead socket.
            self.server.events.put((request_id, body, headers))
            self.close_connection = True
            return
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.server.sent_at[request_id] = time.perf_counter()
        self.wfile.write(body)

    def do_POST(self) -> None:
        parts = self.path[len(PREFIX) :].strip("/").split("/")
        headers = {k.lower(): v for k, v in self.headers.items()}
        chunks: list[bytes] = []
        trailers: dict[str, str] = {}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked(chunks, trailers)
        else:
            body = self.rfile.read(int(headers.get("content-length", "0")))
        if parts == ["init", "error"]:
            kind, request_id = "init_error", ""
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            kind, request_id = parts[2], parts[1]
        else:
            return self._reply(404, b'{"errorMessage":"not found"}')
        received = time.perf_counter()
        self._reply(202, b'{"status":"OK"}')
        if self.server.drop_after_posts > 0:
            # No "Connection: close": the runtime finds out only when it reuses the socket,
            # like a Runtime API that restarted or timed out an idle keep-alive connection.
            self.server.drop_after_posts -= 1
            self.close_connection = True
        self.server.record(
            Posted(kind, request_id, headers, body, chunks, trailers, self.connection_id, received)
        )

    def _read_chunked(self, chunks: list[bytes], trailers: dict[str, str]) -> bytes:
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
            if self.server.on_chunk is not None:
                self.server.on_chunk(len(chunks))
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            trailers[name.strip().lower()] = value.strip()
        return b"".join(chunks)

    def _client_alive(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return True
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FunctionProcess:
    """A bootstrap (strum's or awslambdaric's) running as a real child process."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.popen = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def stop(self) -> tuple[int, str, str]:
        """Terminate if still running; return (exit code, stdout, stderr)."""
        if self.popen.poll() is None:
            self.popen.kill()
        out, err = self.popen.communicate(timeout=10)
        return self.popen.returncode, out.decode(), err.decode()

    def wait(self, timeout: float = 10.0) -> tuple[int, str, str]:
        out, err = self.popen.communicate(timeout=timeout)
        return self.popen.returncode, out.decode(), err.decode()


@dataclass
class FunctionFactory:
    """Writes handler modules into a task root and starts bootstraps against the server."""

    task_root: Path
    server: RuntimeAPIServer
    started: list[FunctionProcess] = field(default_factory=list)

    def module(self, name: str, source: str) -> None:
        path = self.task_root.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(self.task_root).parents:
            init = self.task_root / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("")
        path.write_text(source)

    def env(self, handler: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": SRC,
            "AWS_LAMBDA_RUNTIME_API": self.server.address,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
            # awslambdaric only switches to UTF-8 JSON on the 3.12+ managed runtimes;
            # strum always does, so the comparison runs awslambdaric as on python3.12.
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "MARKERS": str(self.task_root),
        }
        env.update(extra or {})
        return env

    def start(
        self, handler: str, *, runtime: str = "strum", env: dict[str, str] | None = None
    ) -> FunctionProcess:
        if runtime == "strum":
            argv = [sys.executable, "-m", "strum.runtime"]
        elif runtime == "strum-c":  # the same bootstrap without runpy's imports
            argv = [sys.executable, "-c", BOOTSTRAP_C]
        else:
            argv = [sys.executable, "-m", "awslambdaric", handler]
        process = FunctionProcess(argv, self.env(handler, env), self.task_root)
        self.started.append(process)
        return process

    def marker(self, name: str) -> Path:
        return self.task_root / name


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    """Poll for a marker file a child process writes (cross-process, so no Event)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout} s")
        time.sleep(0.005)
