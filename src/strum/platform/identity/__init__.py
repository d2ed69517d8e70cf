"""Who is asking, and may they: the platform's identities and IAM-style policies.

``policy`` parses IAM policy documents (refusing a bad one with its line and field) and
evaluates a request against them the way IAM does; ``conditions`` decides their
``Condition`` blocks. Pure: no I/O, no HTTP - the API layer asks, this answers.
"""

from strum.platform.identity.conditions import ConditionError
from strum.platform.identity.policy import Decision, Policy, PolicyError, Request, authorize

__all__ = ["ConditionError", "Decision", "Policy", "PolicyError", "Request", "authorize"]
