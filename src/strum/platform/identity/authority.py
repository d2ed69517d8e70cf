"""Who is calling and may they: authentication and authorisation for one platform.

``authenticate`` turns a signed request into a ``Caller``: an issued key (the owner's or a
named one) or a function instance's session. ``authorize`` checks the caller's policy,
and the resource's own policy where it has one, for an IAM action on a resource ARN, and
raises ``AccessDenied`` with AWS's message otherwise. The API layer calls both for every
request; this module knows nothing of HTTP.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from strum.platform import arns
from strum.platform.errors import AccessDenied, SignatureRejected
from strum.platform.identity.conditions import Context, ContextValue
from strum.platform.identity.keys import AccessKey, KeyRing
from strum.platform.identity.policy import Decision, Policy, Request, authorize
from strum.platform.identity.sessions import Session, SessionError, SessionIssuer
from strum.platform.identity.signatures import SignedBy, parse, verify

__all__ = ["Authority", "Caller", "Pending"]


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its ARN, account, the region it signed for, its policy."""

    access_key_id: str
    arn: str
    account: str
    region: str
    policy: Policy = field(repr=False)
    # A function instance's session, when the caller is one.
    session: Session | None = None

    @property
    def name(self) -> str:
        return self.arn.rpartition("/")[2]


@dataclass(frozen=True)
class Pending:
    """A claimed identity whose signature is still to be checked against the body."""

    claim: SignedBy
    secret: str = field(repr=False)
    caller: Caller


def _unrecognized() -> SignatureRejected:
    return SignatureRejected(
        403, "UnrecognizedClientException", "The security token included in the request is invalid."
    )


class Authority:
    """Authenticates and authorises requests against one platform's keys and sessions.

    ``function_policy`` gives a session's execution policy (None for a function that no
    longer exists, which ends its sessions); ``account`` owns every key of this platform.
    """

    def __init__(
        self,
        *,
        keys: KeyRing,
        sessions: SessionIssuer,
        function_policy: Callable[[Session], Policy | None],
        account: str,
        service: str = "lambda",
    ) -> None:
        self._keys = keys
        self._sessions = sessions
        self._function_policy = function_policy
        self._account = account
        self._service = service

    def authenticate(
        self,
        *,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        now: float | None = None,
    ) -> Caller:
        """The verified caller of a request; ``SignatureRejected`` when it is not one."""
        pending = self.identify(headers, now=now)
        return self.confirm(pending, method=method, raw_path=raw_path, headers=headers, body=body)

    def identify(self, headers: Mapping[str, str], *, now: float | None = None) -> Pending:
        """Who a request claims to be, from its headers alone (before its body is read):
        refuses what is unsigned, malformed, stale, expired or not a key of ours."""
        claim = parse(headers=headers, service=self._service, now=now)
        if claim.session_token is not None:
            try:
                session = self._sessions.check(claim.access_key_id, claim.session_token, now=now)
            except SessionError as exc:
                raise SignatureRejected(403, exc.error_type, exc.message) from None
            policy = self._function_policy(session)
            if policy is None:
                raise _unrecognized()
            secret = self._sessions.secret_for(claim.session_token)
            caller = Caller(
                claim.access_key_id,
                session.role_arn,
                session.account,
                claim.region,
                policy,
                session,
            )
            return Pending(claim, secret, caller)
        key = self._keys.lookup(claim.access_key_id)
        by_key = self.key_caller(claim.access_key_id, claim.region)
        if key is None or by_key is None:
            raise _unrecognized()
        return Pending(claim, key.secret, by_key)

    def key_caller(self, access_key_id: str, region: str) -> Caller | None:
        """The caller an issued, active key is, in ``region``; None for an unknown or revoked
        key. (The dashboard's session cookie stands for the key it signed in with.)"""
        key = self._keys.lookup(access_key_id)
        if key is None:
            return None
        account = self.account_of(key)
        scope = arns.Scope(region, account)
        arn = scope.root() if key.is_owner else scope.user(key.name)
        return Caller(key.access_key_id, arn, account, region, self._keys.policy(key))

    def check_secret(self, access_key_id: str, secret: str) -> bool:
        """Whether ``secret`` is the secret of the active key ``access_key_id`` (the
        dashboard's sign-in); compared in constant time."""
        key = self._keys.lookup(access_key_id)
        expected = key.secret if key is not None else "x" * 40
        matches = hmac.compare_digest(expected.encode(), secret.encode())
        return key is not None and matches

    def account_of(self, key: AccessKey) -> str:
        """The account a key belongs to: every key of this platform belongs to its one
        account today; this is where a key's own account id will be read."""
        return self._account

    def confirm(
        self,
        pending: Pending,
        *,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> Caller:
        """The caller, once the signature over the whole request checks out (``body``
        None: a streamed body, held by the route to its signed SHA-256)."""
        verify(
            pending.claim,
            secret=pending.secret,
            method=method,
            raw_path=raw_path,
            headers=headers,
            body=body,
        )
        return pending.caller

    def authorize(
        self,
        caller: Caller,
        action: str,
        resource: str,
        *,
        resource_policies: Sequence[Policy] = (),
        context: Context | None = None,
    ) -> None:
        """Raise ``AccessDenied`` unless the caller may perform ``action`` on ``resource``."""
        keys: dict[str, ContextValue] = {
            "aws:PrincipalArn": caller.arn,
            "aws:PrincipalAccount": caller.account,
            "aws:RequestedRegion": caller.region,
            **(context or {}),
        }
        request = Request(
            action=action,
            resource=resource,
            principal=caller.arn,
            principal_account=caller.account,
            context=keys,
        )
        decision = authorize(request, [caller.policy], resource_policies)
        if decision.allowed:
            return
        raise AccessDenied(denial_message(caller.arn, action, resource, decision))


def denial_message(principal: str, action: str, resource: str, decision: Decision) -> str:
    """AWS's AccessDenied message, naming the caller, the action, the resource and why."""
    why = (
        "with an explicit deny in an identity-based policy"
        if decision is Decision.EXPLICIT_DENY
        else f"because no identity-based policy allows the {action} action"
    )
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"
