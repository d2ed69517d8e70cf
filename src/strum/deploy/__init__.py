"""Deploys: desired state from config -> plan of typed steps -> executor per target.

Target-neutral: ``Target`` is the interface both targets implement and ``target_for``
picks one for a stage; ``steps`` holds the steps and the function planner both share, and
``stage`` / ``environment`` what both derive from the config. The local target lives in
``strum.deploy.local``, the AWS target in ``strum.aws``. Light to import: no target is
loaded until ``target_for`` asks for it.
"""

from __future__ import annotations

from strum.deploy.errors import DeployError, NotDeployed, PlatformNotRunning, UnsupportedOnTarget
from strum.deploy.registry import target_for
from strum.deploy.steps import FunctionSpec, Step
from strum.deploy.target import (
    DeadLetters,
    DeployResult,
    LogTail,
    Notify,
    Packaged,
    Reporter,
    Target,
    Upload,
)
from strum.deploy.verify import CheckFailed, url_event

__all__ = [
    "CheckFailed",
    "DeadLetters",
    "DeployError",
    "DeployResult",
    "FunctionSpec",
    "LogTail",
    "NotDeployed",
    "Notify",
    "Packaged",
    "PlatformNotRunning",
    "Reporter",
    "Step",
    "Target",
    "UnsupportedOnTarget",
    "Upload",
    "target_for",
    "url_event",
]
