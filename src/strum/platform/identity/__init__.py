"""Who is asking, and may they: the platform's identities and IAM-style policies.

``policy`` parses IAM policy documents (refusing a bad one with its line and field) and
evaluates a request against them the way IAM does; ``conditions`` decides their
``Condition`` blocks; ``signatures`` checks AWS Signature Version 4 on requests;
``sessions`` issues and checks the short-lived credentials each function instance gets;
``keys`` holds the long-term keys the platform issued (the owner's and named ones, in one
file); ``authority`` puts them together: who signed a request, and may they do what it
asks. No HTTP here: the API layer asks, this answers.

Names load on first use: the CLI reads the owner key through this package on every call
to the platform, and should not pay for policy evaluation it never does.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strum.platform.identity.authority import Authority, Caller
    from strum.platform.identity.conditions import ConditionError
    from strum.platform.identity.keys import AccessKey, AccessKeyError, KeyRing, owner_key
    from strum.platform.identity.policy import (
        Decision,
        Policy,
        PolicyError,
        Request,
        authorize,
        execution_policy,
        resource_policy,
    )
    from strum.platform.identity.sessions import (
        Credentials,
        Session,
        SessionError,
        SessionIssuer,
    )
    from strum.platform.identity.signatures import SignedBy

_HOMES = {
    "authority": ("Authority", "Caller"),
    "conditions": ("ConditionError",),
    "keys": ("AccessKey", "AccessKeyError", "KeyRing", "owner_key"),
    "policy": (
        "Decision",
        "Policy",
        "PolicyError",
        "Request",
        "authorize",
        "execution_policy",
        "resource_policy",
    ),
    "sessions": ("Credentials", "Session", "SessionError", "SessionIssuer"),
    "signatures": ("SignedBy",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "AccessKey",
    "AccessKeyError",
    "Authority",
    "Caller",
    "ConditionError",
    "Credentials",
    "Decision",
    "KeyRing",
    "Policy",
    "PolicyError",
    "Request",
    "Session",
    "SessionError",
    "SessionIssuer",
    "SignedBy",
    "authorize",
    "execution_policy",
    "owner_key",
    "resource_policy",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'strum.platform.identity' has no attribute {name!r}")
    value = getattr(import_module(f"strum.platform.identity.{module}"), name)
    globals()[name] = value
    return value
