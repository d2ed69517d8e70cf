"""The local target: a stage on strum's own platform, through the platform's HTTP API.

``LocalTarget`` implements ``strum.deploy.Target``; ``PlatformLambdaAPI`` is the client
it speaks through (standard library only), planning is pure (``plan``) and ``execute`` is
the only code that writes to the platform.
"""

from __future__ import annotations

from strum.deploy.local.client import LambdaAPIError, PlatformLambdaAPI
from strum.deploy.local.dev import DevSession, touches_dependencies
from strum.deploy.local.execute import execute
from strum.deploy.local.plan import CurrentFunction, DesiredFunction, SyncSchedules, plan_deploy
from strum.deploy.local.target import LocalTarget, current_function

__all__ = [
    "CurrentFunction",
    "DesiredFunction",
    "DevSession",
    "LambdaAPIError",
    "LocalTarget",
    "PlatformLambdaAPI",
    "SyncSchedules",
    "current_function",
    "execute",
    "plan_deploy",
    "touches_dependencies",
]
