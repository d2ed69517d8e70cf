"""Checking AWS Signature Version 4 on requests to ``AuthType AWS_IAM`` Function URLs.

Pure: the caller passes the request's parts and a lookup from access key id to secret.
The canonical request is rebuilt the way AWS's signers (botocore, awscurl, the SigV4
proxy) build it for a non-S3 service: the path as sent, URI-encoded once more; query
pairs re-encoded and sorted; the signed headers with trimmed values; the body's SHA-256.
Only the ``Authorization`` header form is accepted (not presigned query strings).
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a signature more than 15 minutes away from its clock.
MAX_SKEW_S = 15 * 60

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


class SignatureError(Exception):
    """The request is not signed, or not signed correctly; the message says which."""


@dataclass(frozen=True)
class Caller:
    """Who signed a request that verified: the access key and the credential scope."""

    access_key: str
    region: str
    service: str


def verify(
    *,
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None] | None,
    region: str,
    service: str = "lambda",
    now: float | None = None,
) -> Caller:
    """Check the SigV4 ``Authorization`` header of a request; return who signed it.

    ``headers`` must be keyed by lower-case names. ``secret_for`` maps an access key id to
    its secret (None for an unknown key). When ``secret_for`` is None, no keys are issued:
    the header's form, scope and date are checked, but not the signature itself.
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise SignatureError("Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization)
    if not match:
        raise SignatureError("Authorization header is not an AWS4-HMAC-SHA256 signature")
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("Credential should be <key>/<date>/<region>/<service>/aws4_request")
    access_key, day, scope_region, scope_service, _ = parts
    if scope_service != service:
        raise SignatureError(f"Credential should be scoped to a valid service: '{service}'")
    if scope_region != region:
        raise SignatureError(f"Credential should be scoped to a valid region: '{region}'")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError("X-Amz-Date header missing or not in ISO 8601 basic format") from None
    if not amz_date.startswith(day):
        raise SignatureError("Credential date does not match X-Amz-Date")
    current = time.time() if now is None else now
    if abs(current - signed_at.timestamp()) > MAX_SKEW_S:
        raise SignatureError("Signature expired: X-Amz-Date is more than 15 minutes away")
    signed_headers = match["signed"].split(";")
    if "host" not in signed_headers:
        raise SignatureError("The host header must be signed")
    missing = [name for name in signed_headers if name not in headers]
    if missing:
        raise SignatureError(f"Signed headers are missing from the request: {', '.join(missing)}")
    if secret_for is None:
        return Caller(access_key, scope_region, scope_service)
    secret = secret_for(access_key)
    if secret is None:
        raise SignatureError("The security token included in the request is invalid.")
    claimed = headers.get("x-amz-content-sha256")
    if claimed and claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
        raise SignatureError("The provided x-amz-content-sha256 header does not match the body")
    scope = f"{day}/{scope_region}/{scope_service}/aws4_request"
    key = signing_key(secret, day, scope_region, scope_service)
    # Signers differ on the query: the spec re-encodes each pair, botocore signs the pairs
    # of an already-encoded URL as they are. Either form is accepted.
    for reencode in (True, False):
        canonical = canonical_request(
            method, raw_path, headers, signed_headers, body, reencode_query=reencode
        )
        to_sign = "\n".join(
            (ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, match["signature"]):
            return Caller(access_key, scope_region, scope_service)
    raise SignatureError(
        "The request signature we calculated does not match the signature you provided."
    )


def canonical_request(
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    signed: list[str],
    body: bytes,
    *,
    reencode_query: bool = True,
) -> str:
    """SigV4's canonical request for a non-S3 service."""
    path, _, query = raw_path.partition("?")
    normalized = posixpath.normpath(path or "/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):
        normalized = normalized[1:]
    canonical_path = quote(normalized, safe="/~")
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        if reencode_query:
            key, value = _encode(unquote(key)), _encode(unquote(value))
        pairs.append((key, value))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    # The header, when sent, is what was signed (possibly the literal "UNSIGNED-PAYLOAD").
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join(
        (method, canonical_path, canonical_query, canonical_headers, ";".join(signed), payload_hash)
    )


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """The derived SigV4 key for one day, region and service."""
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")
