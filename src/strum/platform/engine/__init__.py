"""The data plane: instances of exact function versions, their warm pools, limits and logs.

``Engine`` runs a ``FunctionSpec`` it is handed (buffered or streamed), within concurrency,
timeout and memory limits; ``launch`` starts instance processes inside the sandbox,
``instances`` follows one process, ``runtime_api`` serves AWS's Runtime API to them,
``logs`` keeps what they print, ``streams`` hands out streamed bodies, ``provisioned`` keeps
provisioned instances warm and ``health`` says whether instances can still start. It imports ``sandbox`` below it and nothing above: it never
resolves names or aliases (that is ``invoke``'s) and never reads the store.
"""

from strum.platform.engine.engine import Engine
from strum.platform.engine.launch import InvalidEntrypoint
from strum.platform.engine.logs import LogStore
from strum.platform.engine.runtime_api import RESPONSE_MODE, SelfInvoke
from strum.platform.engine.streams import BodyStream, StreamFailed

__all__ = [
    "RESPONSE_MODE",
    "BodyStream",
    "Engine",
    "InvalidEntrypoint",
    "LogStore",
    "SelfInvoke",
    "StreamFailed",
]
