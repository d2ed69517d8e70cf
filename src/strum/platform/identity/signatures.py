"""AWS Signature Version 4, checked for real on every request the platform is sent.

Two steps, so the caller can find the secret in between: ``parse`` reads the
``Authorization`` header (key id, scope, signed headers, date, session token) and refuses
what is missing, malformed or outside AWS's 15-minute window; ``verify`` recomputes the
signature with the secret that belongs to the key and compares in constant time.

The canonical request is rebuilt the way AWS's signers (botocore, the AWS CLI, the SDKs,
awscurl) build it for a service other than S3, by the code strum's own signer uses
(``strum.runtime.sigv4.canonical_request``).

Refusals carry AWS's codes, so SDKs raise their usual exceptions: no signature at all is
``MissingAuthenticationTokenException``, a malformed one ``IncompleteSignatureException``,
a wrong or stale one ``InvalidSignatureException`` (AWS General Reference, "Signature
Version 4 signing process" and its troubleshooting page).

Hand-written, because checking (not making) signatures is the server's side, which
botocore's signers do not provide.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from strum.platform.errors import SignatureRejected
from strum.runtime.sigv4 import ALGORITHM, canonical_request, signing_key

__all__ = ["MAX_SKEW_S", "SignatureRejected", "SignedBy", "parse", "verify"]

# AWS refuses a request whose X-Amz-Date is more than 15 minutes from its clock.
MAX_SKEW_S = 15 * 60
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[^,\s]+)\s*$"
)
# AWS's key ids are 16-128 characters of [A-Z0-9]; anything else is no key of ours.
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_REGION = re.compile(r"^[a-z0-9-]{1,32}$")
_DAY = re.compile(r"^\d{8}$")
_HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


def _missing() -> SignatureRejected:
    return SignatureRejected(
        403, "MissingAuthenticationTokenException", "Missing Authentication Token"
    )


def _incomplete(message: str) -> SignatureRejected:
    return SignatureRejected(400, "IncompleteSignatureException", message)


def _invalid(message: str) -> SignatureRejected:
    return SignatureRejected(403, "InvalidSignatureException", message)


@dataclass(frozen=True)
class SignedBy:
    """What a well-formed, current signature claims: the key, its scope, its session token."""

    access_key_id: str
    day: str
    region: str
    service: str
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str
    session_token: str | None


def parse(
    *, headers: Mapping[str, str], service: str = "lambda", now: float | None = None
) -> SignedBy:
    """Read and check the form of a request's signature; raise ``SignatureRejected``.

    ``headers`` are keyed by lower-case names. What is checked here needs no secret: the
    header's shape, the scope's service, the date and the 15-minute window.
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise _missing()
    if not authorization.startswith(ALGORITHM + " "):
        raise _incomplete(
            f"Authorization header must use the {ALGORITHM} algorithm (AWS Signature Version 4)"
        )
    match = _AUTHORIZATION.match(authorization)
    if not match:
        raise _incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters, separated by commas"
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _incomplete(
            "Credential should be scoped to a valid region, service and date: "
            "<key id>/<yyyymmdd>/<region>/<service>/aws4_request"
        )
    key_id, day, region, scope_service, _ = parts
    if not _KEY_ID.match(key_id):
        raise SignatureRejected(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    if not _DAY.match(day) or not _REGION.match(region):
        raise _incomplete("Credential should be scoped to a valid region and date (yyyymmdd)")
    if scope_service != service:
        raise _invalid(f"Credential should be scoped to correct service: '{service}'.")
    signature = match["signature"]
    if not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise _invalid("The signature is not a 64-character hexadecimal SHA-256 HMAC")
    signed = tuple(match["signed"].split(";"))
    if "host" not in signed or not all(_HEADER_NAME.match(name) for name in signed):
        raise _incomplete("SignedHeaders must name the host header, in lower case, separated by ;")
    missing = [name for name in signed if name not in headers]
    if missing:
        raise _incomplete(f"Signed headers are missing from the request: {', '.join(missing)}")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise _incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
            "header in ISO 8601 basic format (yyyymmddThhmmssZ)"
        ) from None
    if not amz_date.startswith(day):
        raise _invalid("Credential date does not match X-Amz-Date")
    current = time.time() if now is None else now
    skew = signed_at.timestamp() - current
    if skew < -MAX_SKEW_S:
        raise _invalid(
            f"Signature expired: {amz_date} is now earlier than {_stamp(current - MAX_SKEW_S)} "
            f"({_stamp(current)} - 15 min.)"
        )
    if skew > MAX_SKEW_S:
        raise _invalid(
            f"Signature not yet current: {amz_date} is still later than "
            f"{_stamp(current + MAX_SKEW_S)} ({_stamp(current)} + 15 min.)"
        )
    token = headers.get("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed:
        raise _incomplete("X-Amz-Security-Token must be a signed header")
    return SignedBy(key_id, day, region, scope_service, amz_date, signed, signature, token)


_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def verify(
    signed_by: SignedBy,
    *,
    secret: str,
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes | None,
) -> None:
    """Recompute the signature with the key's ``secret``; raise unless it matches.

    ``body`` None: the body streams to the route after this check, which must then hold
    it to the signed ``x-amz-content-sha256`` - so that header must be a SHA-256 (hex);
    ``UNSIGNED-PAYLOAD`` would let a replayed signature carry any body.
    """
    claimed = headers.get("x-amz-content-sha256")
    if body is None:
        if not claimed or not _HEX_DIGEST.match(claimed):
            raise _invalid(
                "A streamed upload must be signed with its SHA-256 (hex) in the "
                "'x-amz-content-sha256' header"
            )
        body = b""
    elif claimed and claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
        raise _invalid(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    scope = f"{signed_by.day}/{signed_by.region}/{signed_by.service}/aws4_request"
    key = signing_key(secret, signed_by.day, signed_by.region, signed_by.service)
    # Signers differ on the query: the spec re-encodes each pair, botocore signs the pairs
    # of an already-encoded URL as they are. Either form is accepted.
    forms = (True, False) if "?" in raw_path else (True,)
    for reencode in forms:
        canonical = canonical_request(
            method, raw_path, headers, signed_by.signed_headers, body, reencode_query=reencode
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"{ALGORITHM}\n{signed_by.amz_date}\n{scope}\n{digest}"
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signed_by.signature):
            return
    raise _invalid(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details."
    )


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
