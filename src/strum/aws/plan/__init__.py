"""Planning an AWS deploy: pure functions from ``DesiredStage`` and ``CurrentStage`` to steps.

Never imports a client. ``plan_deploy`` (``stage``) orders the whole plan; ``consumers``
and ``domain`` plan the pushed event sources and the custom domain; ``steps`` holds the
steps only AWS has, beside the function steps both targets share (``strum.deploy.steps``).
"""

from __future__ import annotations

from strum.aws.plan.consumers import bucket_entry, plan_consumers
from strum.aws.plan.domain import plan_domain
from strum.aws.plan.stage import plan_deploy

__all__ = ["bucket_entry", "plan_consumers", "plan_deploy", "plan_domain"]
