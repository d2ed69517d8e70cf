"""AWS Signature Version 4 for the requests strum itself sends (standard library only).

Functions call the platform's Invoke API (``@task``'s ``.delay()``) and the CLI calls its
control API; both sign with SigV4 like any AWS SDK, so the platform checks every caller
the same way. It ships inside functions, where importing botocore's signer (and botocore)
would cost a cold start, hence this small hand-written signer; the platform's verifier
(``strum.platform.identity.signatures``) builds its canonical request with the same code,
and the tests check both against botocore's.

Imported only when something is signed: nothing here runs at a function's start.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import time
from urllib.parse import quote, unquote

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ALGORITHM", "canonical_request", "sign", "signing_key"]

ALGORITHM = "AWS4-HMAC-SHA256"


def sign(
    *,
    method: str,
    host: str,
    raw_path: str,
    body: bytes,
    access_key: str,
    secret: str,
    region: str,
    session_token: str | None = None,
    service: str = "lambda",
    headers: dict[str, str] | None = None,
    now: float | None = None,
) -> dict[str, str]:
    """The headers that sign a request: ``raw_path`` is the path and query as sent
    (already percent-encoded); ``headers`` are others to sign with it. Returns them all,
    with ``Host``, ``X-Amz-Date``, ``X-Amz-Security-Token`` and ``Authorization`` added."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    signed = {name.lower(): value for name, value in (headers or {}).items()}
    signed["host"] = host
    signed["x-amz-date"] = stamp
    if session_token:
        signed["x-amz-security-token"] = session_token
    names = tuple(sorted(signed))
    canonical = canonical_request(method, raw_path, signed, names, body, reencode_query=False)
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"
    key = signing_key(secret, stamp[:8], region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


def canonical_request(
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    signed: tuple[str, ...],
    body: bytes,
    *,
    reencode_query: bool = True,
) -> str:
    """SigV4's canonical request for a service other than S3.

    The path as sent, normalised and URI-encoded once more; the query pairs sorted -
    re-encoded as the specification says, or (``reencode_query=False``) as they stand in
    an already-encoded URL, which is what botocore signs; the signed headers with their
    values trimmed; the body's SHA-256, or the ``X-Amz-Content-Sha256`` header when sent.
    """
    path, _, query = raw_path.partition("?")
    normalized = posixpath.normpath(path or "/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):
        normalized = normalized[1:]
    canonical_path = quote(normalized, safe="/~")
    pairs = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        if reencode_query:
            name, value = _encode(unquote(name)), _encode(unquote(value))
        pairs.append((name, value))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join(
        (method, canonical_path, canonical_query, canonical_headers, ";".join(signed), payload_hash)
    )


_KEYS: dict[tuple[str, str, str, str], bytes] = {}


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """The derived SigV4 key for one day, region and service (kept: four HMACs each)."""
    cache_key = (secret, day, region, service)
    key = _KEYS.get(cache_key)
    if key is None:
        key = ("AWS4" + secret).encode()
        for part in (day, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if len(_KEYS) > 512:
            _KEYS.clear()
        _KEYS[cache_key] = key
    return key


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")
