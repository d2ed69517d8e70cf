"""A real platform on an ephemeral loopback port, in a thread of the test process.

``running_platform`` starts one per test (fresh ``$STRUM_HOME`` under tmp_path); its
``client()`` is a real boto3 Lambda client pointed at it.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from strum.platform import Platform, Settings
from strum.platform.home import Home


@dataclass
class RunningPlatform:
    platform: Platform
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    clients: list[Any] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.platform.endpoint

    @property
    def owner(self) -> Any:
        """The platform's owner key (what the CLI signs with)."""
        return self.platform.keys.ensure_owner()

    def client(self, *, key: Any = None, session_token: str | None = None, **config: Any) -> Any:
        """A boto3 Lambda client signing with ``key`` (default: the owner's) - an
        ``AccessKey``, or an (access key id, secret) pair."""
        import boto3
        from botocore.config import Config

        key = key or self.owner
        key_id, secret = (key.access_key_id, key.secret) if hasattr(key, "secret") else key
        client = boto3.client(
            "lambda",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=session_token,
            config=Config(retries={"max_attempts": 1}, read_timeout=60, **config),
        )
        # Closed in stop(): a pooled keep-alive socket left to the garbage collector is a
        # ResourceWarning (an error here) in whichever test happens to run then.
        self.clients.append(client)
        return client

    def request(
        self, path: str, *, method: str = "GET", data: bytes | None = None, key: Any = None
    ) -> urllib.request.Request:
        """A urllib request to the platform's API, signed like boto3 signs (``key``
        defaults to the owner's)."""
        return signed_request(self.endpoint, key or self.owner, path, method=method, data=data)

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the platform's loop from the test thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        try:
            self.call(self.platform.stop())
        except TimeoutError:
            # Say what it was waiting for, so a slow stop can be diagnosed from CI's log.
            stacks = self.call(_pending_stacks(), timeout=5)
            raise TimeoutError(f"the platform did not stop; pending tasks:\n{stacks}") from None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


async def _pending_stacks() -> str:
    import io

    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.print_stack(file=out)
    return out.getvalue()


def signed_request(
    endpoint: str, key: Any, path: str, *, method: str = "GET", data: bytes | None = None
) -> urllib.request.Request:
    """A urllib request signed with SigV4 by ``key`` (an ``AccessKey``)."""
    from strum.runtime.sigv4 import sign

    headers = sign(
        method=method,
        host=urlsplit(endpoint).netloc,
        raw_path=path,
        body=data or b"",
        access_key=key.access_key_id,
        secret=key.secret,
        region="us-east-1",
    )
    return urllib.request.Request(endpoint + path, data=data, method=method, headers=headers)


def start_platform(home: Path, **settings: Any) -> RunningPlatform:
    # Most platform tests watch functions through files they write on the host, which a
    # sandbox forbids; tests/platform/test_sandbox.py runs the platform sandboxed.
    base = Settings(host="127.0.0.1", port=0, retry_delay_scale=0.001, sandbox=False)
    platform = Platform(Home(home), replace(base, **settings))
    loop = asyncio.new_event_loop()
    started: Future[None] = Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(platform.start())
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        loop.run_forever()

    thread = threading.Thread(target=run, name="strum-platform", daemon=True)
    thread.start()
    started.result(timeout=30)
    return RunningPlatform(platform, loop, thread)


@pytest.fixture
def running_platform(tmp_path: Path) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path / "strum-home")
    yield running
    running.stop()


@pytest.fixture
def lambda_client(running_platform: RunningPlatform) -> Any:
    return running_platform.client()
