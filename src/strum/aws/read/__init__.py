"""Reading what AWS has for a stage now: read-only calls, one ``CurrentStage``.

``stage`` reads the function, role, layer, rules and HTTP API; ``consumers`` and ``domain``
read the pushed event sources and the custom domain. Nothing here writes.
"""

from __future__ import annotations

from strum.aws.read.consumers import read_consumers
from strum.aws.read.domain import owned_domains, read_domain
from strum.aws.read.stage import current_stage, find_api

__all__ = ["current_stage", "find_api", "owned_domains", "read_consumers", "read_domain"]
