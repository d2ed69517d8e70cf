"""strum's embedded serverless platform: AWS Lambda's protocols on one machine.

It runs as one asyncio process (``strum platform run``) and speaks:

- the Lambda control and Invoke REST API at ``/2015-03-31/functions...`` (and the Function
  URL config routes), so ``boto3.client("lambda", endpoint_url=...)`` works unchanged;
- the Runtime API ``/2018-06-01/runtime/...`` to the function processes it starts, each
  instance on a listener of its own (a Runtime API address identifies one instance);
- Function URLs: one plain HTTP listener per URL config, so the app sees its own root.

Packages, top to bottom; an arrow points at what is used, and nothing imports upwards::

    server      wiring + lifecycle: builds each part with exactly what it uses
     ├─> api    AWS's REST API and /strum/v1 (routes; errors become responses here)
     ├─> urls   Function URL listeners, payload 2.0 events, SigV4
     │     api, urls ─> invoke   the Invoker (one path in for every entry point:
     │                           qualifiers, weights, payload limits, invocation
     │                           types), the async queue, the schedules
     │     api, urls, invoke ─> state    SQLite store, records, code store
     │     invoke ─> engine     instances, pools, limits, Runtime API, logs
     │     engine ─> sandbox    probe, bubblewrap, cgroups, seccomp, spawn
     └─ below everything: settings (Settings), errors (status + AWS error type, no
        HTTP), spec (FunctionSpec, InvokeResult), home ($STRUM_HOME), daemon (the CLI's
        background process)

aiohttp is imported only by ``api``, ``urls``, ``engine.runtime_api`` and ``server``;
importing this package imports none of them (``Platform`` and ``serve`` load on first
use). Nothing here is imported by code that ships inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strum.platform.home import Home, default_home
from strum.platform.hostnames import LOOPBACK_HOSTS, stage_from_host, stage_url
from strum.platform.settings import LOOPBACK, Settings

if TYPE_CHECKING:
    from strum.platform.server import Platform, serve

__all__ = [
    "LOOPBACK",
    "LOOPBACK_HOSTS",
    "Home",
    "Platform",
    "Settings",
    "default_home",
    "serve",
    "stage_from_host",
    "stage_url",
]

_LAZY = {"Platform", "serve"}


def __getattr__(name: str) -> Any:
    # The server pulls in aiohttp and every layer; the CLI imports this package for Home.
    if name in _LAZY:
        from strum.platform import server

        return getattr(server, name)
    raise AttributeError(f"module 'strum.platform' has no attribute {name!r}")
