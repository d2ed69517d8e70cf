"""The error both deploy targets raise when an operation cannot go ahead as asked."""

from __future__ import annotations

from strum.errors import StrumError


class DeployError(StrumError):
    """A deploy, rollback or undeploy cannot go ahead as asked (on either target)."""

    exit_code = 7


class UnsupportedOnTarget(StrumError):
    """The stage's target does not have what the command asks for (dead letters on AWS)."""
