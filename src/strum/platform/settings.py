"""How one platform runs: the ``Settings`` every layer reads, and nothing else.

Kept apart from the wiring (``server``) so that the engine, the queue and the listeners
read their knobs without importing the module that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOOPBACK", "Settings"]

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Settings:
    """How one platform runs. Defaults suit one developer machine."""

    host: str = "127.0.0.1"
    port: int = 8700
    # Scale to zero: an instance idle this long is stopped.
    idle_timeout_s: float = 300.0
    # Platform-wide concurrency (AWS's account limit): beyond it, 429.
    max_concurrency: int = 64
    # Multiplies async retry delays (1.0 = AWS's minutes); tests shrink it.
    retry_delay_scale: float = 1.0
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # TLS, required to listen beyond loopback: a certificate and its key, or the names to
    # make a self-signed certificate for (kept in $STRUM_HOME/tls).
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_names: tuple[str, ...] = ()
    # Run each instance in a sandbox (namespaces, cgroups) where the machine allows it.
    sandbox: bool = True
    # Cold starts of Python functions fork an initialised template (``engine.templates``)
    # where the sandbox can give each fork its own namespaces; False: a new interpreter.
    templates: bool = True
    # Cold starts of a version served the old way before its template starts: 1, because
    # most versions see one (``engine.templates`` says why); 0 starts it at the first.
    cold_starts_before_template: int = 1
