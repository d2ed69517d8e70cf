"""The error both deploy targets raise when an operation cannot go ahead as asked."""

from __future__ import annotations

from strum.errors import StrumError


class DeployError(StrumError):
    """A deploy, rollback or undeploy cannot go ahead as asked (on either target)."""

    exit_code = 7


class PlatformNotRunning(DeployError):
    """No platform runs for the home, so nothing about a local stage can be read or run."""

    exit_code = 3


class NotDeployed(DeployError):
    """The stage has no function (or no alias) to invoke or manage: deploy it first."""

    exit_code = 3


class UnsupportedOnTarget(StrumError):
    """The stage's target does not have what the command asks for (dead letters on AWS)."""
