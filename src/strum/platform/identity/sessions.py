"""Short-lived credentials for function instances, like an execution role's session.

Each instance gets ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
``AWS_SESSION_TOKEN``. Nothing about them is stored: the session token carries who it is
for (account, function, version) and when it expires, sealed with the platform's session
key (HMAC-SHA256), and the secret is derived from the same key and the token. A request
signed with them is checked by unsealing the token, re-deriving the secret and verifying
the signature with it - so sessions survive a platform restart, cost no lookup, and a
forged, altered or expired token is refused.

Key ids follow AWS's prefixes: ``ASIA`` for temporary credentials (``AKIA`` is what
``keys`` issues for long-term ones), so tools that tell them apart keep doing so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from strum.platform import arns

__all__ = ["Credentials", "Session", "SessionError", "SessionIssuer"]

# AWS's default session duration for a Lambda execution role is the function's lifetime up
# to 12 h; the platform rotates far sooner: an instance asks for fresh credentials at each
# start, and these expire on their own.
DEFAULT_TTL_S = 12 * 3600
# AWS's presigned Code.Location links are valid for 10 minutes.
LINK_TTL_S = 600
_PREFIX = "ASIA"
_TOKEN_VERSION = "s1"


class SessionError(Exception):
    """A session token that is not the platform's, does not fit its key id, or expired.

    ``error_type`` is the code AWS answers with (``UnrecognizedClientException`` for a
    token it did not issue, ``ExpiredTokenException`` for one past its expiry).
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class Session:
    """Who a valid session token speaks for."""

    access_key_id: str
    account: str
    function: str
    version: str
    expires_at: float

    @property
    def role_arn(self) -> str:
        """The identity's ARN, in the form AWS gives an assumed execution role."""
        return arns.Scope("", self.account).assumed_role(f"{self.function}-role", self.function)


@dataclass(frozen=True)
class Credentials:
    """What an instance receives: the three values AWS's SDKs read from the environment."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def __repr__(self) -> str:  # the secret never reaches a log through a repr
        return f"Credentials({self.access_key_id!r}, expires_at={self.expires_at:.0f})"


class SessionIssuer:
    """Issues and checks session credentials sealed with one platform key (32+ bytes)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._seal = hmac.new(key, b"strum session seal", hashlib.sha256).digest()
        self._secrets = hmac.new(key, b"strum session secret", hashlib.sha256).digest()
        self._links = hmac.new(key, b"strum presigned link", hashlib.sha256).digest()

    def issue(
        self, *, account: str, function: str, version: str, ttl_s: float = DEFAULT_TTL_S
    ) -> Credentials:
        """Fresh credentials for one instance of ``function`` at ``version``."""
        access_key_id = _PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()
        expires_at = time.time() + ttl_s
        claims: dict[str, str | int] = {"k": access_key_id, "a": account, "f": function}
        claims |= {"v": version, "e": int(expires_at)}
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        token = f"{_TOKEN_VERSION}.{body}.{_b64(self._mac(body))}"
        return Credentials(access_key_id, self._secret(token), token, float(claims["e"]))

    def check(self, access_key_id: str, token: str, *, now: float | None = None) -> Session:
        """The session a token stands for; ``SessionError`` if it is not one of ours."""
        invalid = SessionError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _TOKEN_VERSION or len(token) > 2048:
            raise invalid
        _, body, mac = parts
        try:
            sealed = _unb64(mac)
            claims = json.loads(_unb64(body))
        except ValueError:
            raise invalid from None
        if not hmac.compare_digest(sealed, self._mac(body)):
            raise invalid
        try:
            if claims["k"] != access_key_id:
                raise invalid
            session = Session(
                access_key_id, str(claims["a"]), str(claims["f"]), str(claims["v"]), claims["e"]
            )
        except (KeyError, TypeError):
            raise invalid from None
        if (time.time() if now is None else now) >= session.expires_at:
            raise SessionError(
                "ExpiredTokenException", "The security token included in the request is expired"
            )
        return session

    def secret_for(self, token: str) -> str:
        """The secret that belongs to a token (check the token first)."""
        return self._secret(token)

    def presign(self, path: str, ttl_s: float = LINK_TTL_S) -> str:
        """``path`` with a query that lets anyone holding it GET it until it expires, like
        the presigned S3 URL AWS answers ``GetFunction``'s ``Code.Location`` with."""
        expires = int(time.time() + ttl_s)
        signature = hmac.new(self._links, f"{path}\n{expires}".encode(), hashlib.sha256)
        return f"{path}?X-Strum-Expires={expires}&X-Strum-Signature={signature.hexdigest()}"

    def presigned(self, path: str, query: Mapping[str, str], *, now: float | None = None) -> bool:
        """Whether ``path`` with ``query`` is a link ``presign`` made and it is still valid."""
        try:
            expires = int(query.get("X-Strum-Expires", ""))
        except ValueError:
            return False
        expected = hmac.new(self._links, f"{path}\n{expires}".encode(), hashlib.sha256)
        given = query.get("X-Strum-Signature", "")
        current = time.time() if now is None else now
        return current < expires and hmac.compare_digest(expected.hexdigest(), given)

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._seal, body.encode(), hashlib.sha256).digest()

    def _secret(self, token: str) -> str:
        digest = hmac.new(self._secrets, token.encode(), hashlib.sha256).digest()
        # 40 characters, like an AWS secret access key.
        return base64.b64encode(digest).decode()[:40]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
