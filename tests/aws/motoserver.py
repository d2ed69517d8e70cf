"""A moto server in its own process on an ephemeral loopback port (tests and bench/).

moto runs out of process so its imports, threads and warnings never touch the process under
test; it binds port 0 and reports the port it got, so parallel runs never collide.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

_SERVE = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the parent closes our stdin (or dies)
server.stop()
"""


@dataclass
class MotoServer:
    """A running moto server; ``endpoint`` is what AWS_ENDPOINT_URL should say."""

    process: subprocess.Popen[str]
    endpoint: str

    def reset(self) -> None:
        """Forget every resource (moto's own reset route)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def configure(self, settings: dict[str, object]) -> None:
        """Set moto's own configuration (``/moto-api/config``); it outlives a reset."""
        self._post("/moto-api/config", settings)

    def queue_invoke_results(self, results: list[str], region: str, account: str) -> None:
        """What the next Invoke calls in ``region`` answer, in order (moto's Docker-less
        Lambda backend; without queued results it answers with the request payload)."""
        self._post(
            "/moto-api/static/lambda-simple/response",
            {"results": results, "region": region, "account_id": account},
        )

    def _post(self, path: str, document: dict[str, object]) -> None:
        import json

        request = urllib.request.Request(
            f"{self.endpoint}{path}", data=json.dumps(document).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


def start_moto(deadline: float = 60.0) -> MotoServer:
    """Start moto and wait (bounded) until it answers."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    # ACM issues a requested certificate this many seconds later (moto's default: 60), so
    # deploys with a custom domain really wait for it, briefly.
    env.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.isdigit():
        process.kill()
        raise RuntimeError(f"moto did not start (printed {line!r})")
    server = MotoServer(process, f"http://127.0.0.1:{line}")
    give_up = time.monotonic() + deadline
    while True:
        try:
            server.reset()
            # moto runs function code in Docker, which tests do not have: its "simple"
            # backend answers Invoke without running anything, which is what lets a deploy's
            # check of the new version (an Invoke of it) be driven from a test.
            server.configure({"lambda": {"use_docker": False}})
            return server
        except OSError:
            if time.monotonic() > give_up:
                server.stop()
                raise
            time.sleep(0.1)


def aws_environment(endpoint: str, region: str = "eu-west-1") -> dict[str, str]:
    """The variables that point boto3 at moto, with throwaway credentials and no profile."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
