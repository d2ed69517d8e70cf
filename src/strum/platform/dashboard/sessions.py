"""Signing in to the dashboard: an issued key's id and secret buy a short-lived session.

A session is a random token (256 bits) in a cookie - ``HttpOnly``, ``SameSite=Strict``,
``Path=/strum/``, ``Secure`` when the platform serves TLS - and a record in memory (by the
token's SHA-256, so memory never holds a usable cookie) with the key it stands for, its
expiry and its CSRF token. Nothing is signed that could be forged: a cookie is valid only
while its record exists, for ``ttl_s`` at most, and only while its key is active (revoking
a key ends its sessions). A restart of the platform signs everyone out.

Every unsafe request (POST) must carry the session's CSRF token in its form and come from
the platform's own origin (``Origin`` and ``Sec-Fetch-Site`` when the browser sends them),
on top of ``SameSite=Strict``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from strum.platform.api.access import DASHBOARD_SIGN_IN
from strum.platform.errors import AccessDenied, PlatformError
from strum.platform.identity import Authority, Caller

__all__ = ["COOKIE", "SESSION", "DashboardSession", "SignIns"]

COOKIE = "strum_session"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
# Sessions held at most (the oldest go first): memory stays bounded whatever signs in.
_MAX_SESSIONS = 1000


class NotSignedIn(AccessDenied):
    """No session, or one that is forged, expired or of a revoked key."""


@dataclass(frozen=True)
class DashboardSession:
    """One signed-in browser."""

    access_key_id: str
    expires_at: float
    csrf: str


# Where a page finds the session the middleware checked.
SESSION = web.RequestKey("dashboard_session", DashboardSession)


class SignIns:
    """The dashboard's sessions; ``caller``/``refused`` are the access middleware's seam."""

    def __init__(
        self,
        authority: Authority,
        region: str,
        *,
        ttl_s: float = 30 * 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._authority = authority
        self._region = region
        self.ttl_s = ttl_s
        self._clock = clock
        self._sessions: dict[str, DashboardSession] = {}

    # -- signing in and out ---------------------------------------------------------------

    def sign_in(self, access_key_id: str, secret: str) -> tuple[str, DashboardSession] | None:
        """A new session for a key whose secret matches; None when it does not."""
        if not self._authority.check_secret(access_key_id.strip(), secret.strip()):
            return None
        now = self._clock()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
        while len(self._sessions) >= _MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        token = secrets.token_urlsafe(32)
        session = DashboardSession(
            access_key_id.strip(), now + self.ttl_s, secrets.token_urlsafe(24)
        )
        self._sessions[_digest(token)] = session
        return token, session

    def sign_out(self, request: web.Request) -> None:
        token = request.cookies.get(COOKIE)
        if token:
            self._sessions.pop(_digest(token), None)

    def session(self, request: web.Request) -> DashboardSession | None:
        """The request's live session, or None."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        session = self._sessions.get(_digest(token))
        if session is None:
            return None
        if session.expires_at <= self._clock():
            self._sessions.pop(_digest(token), None)
            return None
        return session

    def set_cookie(self, response: web.StreamResponse, request: web.Request, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self.ttl_s),
            path="/strum/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )

    # -- the access middleware's seam (``CookieAuthenticator``) ---------------------------

    async def caller(self, request: web.Request) -> Caller:
        session = self.session(request)
        if session is None:
            raise NotSignedIn("Sign in to the dashboard first")
        caller = self._authority.key_caller(session.access_key_id, self._region)
        if caller is None:
            self.sign_out(request)
            raise NotSignedIn("The key this session signed in with is no longer active")
        if request.method not in _SAFE:
            check_same_origin(request)
            form = await request.post()
            token = form.get("csrf")
            if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
                raise AccessDenied("The form's CSRF token is missing or does not match")
        request[SESSION] = session
        return caller

    def refused(self, request: web.Request, error: PlatformError) -> web.StreamResponse:
        if isinstance(error, NotSignedIn) and request.method in _SAFE:
            target = DASHBOARD_SIGN_IN + "?next=" + quote(request.path_qs, safe="")
            return web.Response(status=303, headers={"Location": target})
        from strum.platform.dashboard.render import render

        page = render("refused.html", message=error.message, signed_in=False)
        return web.Response(status=403, text=page, content_type="text/html")


def check_same_origin(request: web.Request) -> None:
    """Refuse a request a browser says came from another site (CSRF's first line)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise AccessDenied(
            f"Refused a {fetch_site} request: the dashboard takes its own forms only"
        )
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise AccessDenied(
            f"Refused a request from {origin}: the dashboard takes its own forms only"
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
