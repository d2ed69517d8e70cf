"""How invocations get in: the ``Invoker`` (the one path into the engine for every entry
point - qualifiers, weighted aliases, payload limits, invocation types), the durable queue
behind ``InvocationType=Event`` (``queue``), the schedules that fire into it
(``schedules``), durable executions (``durable``, their checkpoints applied by
``durable_updates``) and provisioned concurrency's configurations made warm instances
(``provisioned``). Above ``engine`` and ``state``, below ``api`` and ``urls``; no HTTP.
"""

from strum.platform.invoke.durable import DurableExecutions
from strum.platform.invoke.durable_updates import CallbackTimedOut, public_operation
from strum.platform.invoke.invoker import (
    ASYNC_PAYLOAD_LIMIT,
    INVOCATION_TYPES,
    SYNC_PAYLOAD_LIMIT,
    Invoker,
    invocation_type_error,
    resolve_spec,
)
from strum.platform.invoke.provisioned import Provisioner
from strum.platform.invoke.queue import AsyncQueue, QueuedEvent, RetryPolicy
from strum.platform.invoke.schedules import Rule, Scheduler, iso_time, utc_now

__all__ = [
    "ASYNC_PAYLOAD_LIMIT",
    "INVOCATION_TYPES",
    "SYNC_PAYLOAD_LIMIT",
    "AsyncQueue",
    "CallbackTimedOut",
    "DurableExecutions",
    "Invoker",
    "Provisioner",
    "QueuedEvent",
    "RetryPolicy",
    "Rule",
    "Scheduler",
    "invocation_type_error",
    "iso_time",
    "public_operation",
    "resolve_spec",
    "utc_now",
]
