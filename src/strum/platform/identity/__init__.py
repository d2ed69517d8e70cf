"""Who is asking, and may they: the platform's identities and IAM-style policies.

``policy`` parses IAM policy documents (refusing a bad one with its line and field) and
evaluates a request against them the way IAM does; ``conditions`` decides their
``Condition`` blocks; ``signatures`` checks AWS Signature Version 4 on requests;
``sessions`` issues and checks the short-lived credentials each function instance gets;
``keys`` holds the long-term keys the platform issued (the owner's and named ones);
``authority`` puts them together: who signed a request, and may they do what it asks. Pure: no I/O, no HTTP - the API layer asks, this answers.
"""

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
from strum.platform.identity.sessions import Credentials, Session, SessionError, SessionIssuer
from strum.platform.identity.signatures import SignedBy

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
