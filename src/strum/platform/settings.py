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
    # Required to bind anything but loopback: clients send "Authorization: Bearer <token>".
    auth_token: str | None = None
    # Multiplies async retry delays (1.0 = AWS's minutes); tests shrink it.
    retry_delay_scale: float = 1.0
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # SigV4 keys (access key id, secret) that AWS_IAM Function URLs verify signatures
    # against; with none issued, a well-formed, current signature is required but not checked.
    access_keys: tuple[tuple[str, str], ...] = ()
    # Run each instance in a sandbox (namespaces, cgroups) where the machine allows it.
    sandbox: bool = True
