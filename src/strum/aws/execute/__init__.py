"""Carrying out an AWS deploy plan: the only code that writes to AWS.

``Executor`` runs a plan's steps (dispatching each through a table of step type -> runner),
waiting out AWS's eventual consistency within ``Patience``; ``undeploy_stage`` removes a
stage; ``consumers``, ``domain`` and ``s3_uploads`` carry out their own steps.
"""

from __future__ import annotations

from strum.aws.execute.executor import Executor, Patience
from strum.aws.execute.undeploy import owned_function, undeploy_stage

__all__ = ["Executor", "Patience", "owned_function", "undeploy_stage"]
