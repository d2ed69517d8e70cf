"""The one way into the data plane: what every entry point invokes through.

The Invoke route, Function URLs (buffered and streamed), ``@task``'s self-invocations, the
async queue's deliveries and schedules all call the ``Invoker``. It resolves what to run
(``$LATEST``, a version, an alias - a weighted alias picks a version by weight on every
call), applies AWS's payload limits (6 MB synchronous, 1 MB asynchronous) and hands the
invocation to the engine (``RequestResponse``, or ``invoke_stream``) or the durable queue
(``Event``); ``DryRun`` only checks that the function exists.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import replace

from strum.platform.engine import BodyStream, Engine
from strum.platform.errors import RequestTooLarge, ValidationFailed, model_error
from strum.platform.invoke.durable import DurableExecutions
from strum.platform.invoke.queue import AsyncQueue
from strum.platform.spec import FunctionSpec, InvokeResult
from strum.platform.state import LATEST, Store, parse_function_name

__all__ = [
    "ASYNC_PAYLOAD_LIMIT",
    "INVOCATION_TYPES",
    "SYNC_PAYLOAD_LIMIT",
    "Invoker",
    "invocation_type_error",
    "resolve_spec",
]

logger = logging.getLogger(__name__)

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


def resolve_spec(
    store: Store,
    name: str,
    qualifier: str | None = None,
    *,
    draw: Callable[[], float] = random.random,
) -> FunctionSpec:
    """What to run for an invocation of ``name`` at ``qualifier``.

    ``qualifier`` is None or "$LATEST", a version number, or an alias; a weighted alias
    picks its version by weight on every call (``draw`` is the dice, in [0, 1)). The ARN
    is the one the caller named, in the caller's region and account. Raises
    ``ResourceNotFound``.
    """
    if qualifier is None or qualifier == LATEST or qualifier.isdigit():
        spec = store.version_spec(name, qualifier or LATEST)
        arn = store.arn(name, qualifier)
        return spec if spec.arn == arn else replace(spec, arn=arn)
    alias = store.invoked_alias(name, qualifier)
    version = alias.function_version
    if alias.weights:
        left = draw()
        for candidate, weight in alias.weights.items():
            if left < weight:
                version = candidate
                break
            left -= weight
    return replace(store.version_spec(name, version), arn=store.arn(name, qualifier))


def invocation_type_error(invocation_type: str) -> ValidationFailed:
    """AWS's answer to an ``X-Amz-Invocation-Type`` outside its enum."""
    return model_error(
        invocation_type,
        "invocationType",
        "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
    )


class Invoker:
    """Invocations of the platform's functions, by name and qualifier (see the module)."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        queue: AsyncQueue,
        durable: DurableExecutions | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._queue = queue
        self._durable = durable

    async def invoke(
        self,
        name: str,
        qualifier: str | None,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        tail: bool = False,
        client_context: str | None = None,
        request_id: str | None = None,
        durable_name: str | None = None,
    ) -> InvokeResult:
        """Invoke ``name`` at ``qualifier`` (None, "$LATEST", a version or an alias).

        ``name`` may also be ``name:qualifier`` or an ARN. ``client_context`` is the
        ``X-Amz-Client-Context`` header as sent (base64 JSON). ``request_id`` keeps an id
        the caller already answered with (a Function URL's, a queued event's across its
        retries); by default a fresh one. Answers the engine's result for
        ``RequestResponse``; for ``Event`` and ``DryRun`` an empty result carrying the
        request id. Raises a ``PlatformError`` (``ResourceNotFound``, ``RequestTooLarge``,
        ``TooManyRequests``...) for what AWS answers with an error status.

        A durable function's invocation starts a durable execution (named
        ``durable_name``, ``X-Amz-Durable-Execution-Name``): ``RequestResponse`` answers
        its result once it finishes, ``Event`` as soon as it is stored.
        """
        if ":" in name:
            name, derived = parse_function_name(name)
            qualifier = qualifier or derived
        spec = self._resolve(name, qualifier, payload, invocation_type)
        if spec.durable is not None and self._durable is not None:
            if invocation_type not in INVOCATION_TYPES:
                raise invocation_type_error(invocation_type)
            if invocation_type != "DryRun":
                return await self._durable.begin(
                    spec, payload, name=durable_name, wait=invocation_type == "RequestResponse"
                )
        # Callers that own a request id (Function URLs, async retries) keep it across the call.
        request_id = request_id or str(uuid.uuid4())
        if invocation_type == "RequestResponse":
            return await self._engine.invoke(
                spec,
                payload or b"{}",
                request_id=request_id,
                client_context=client_context,
                tail=tail,
            )
        if invocation_type == "Event":
            await self._queue.enqueue(spec.name, qualifier, payload or b"{}", request_id)
            logger.debug("queued event %s for %s", request_id, spec.arn)
        elif invocation_type != "DryRun":
            raise invocation_type_error(invocation_type)
        return InvokeResult(request_id=request_id, payload=b"", executed_version=spec.version)

    async def invoke_stream(
        self,
        name: str,
        qualifier: str | None,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        tail: bool = False,
    ) -> tuple[dict[str, str], BodyStream]:
        """A synchronous invocation whose body streams: the response headers as soon as the
        function answers, and the body's chunks as they come (``Engine.invoke_stream``).
        Names, qualifiers, resolution and limits are ``invoke``'s."""
        if ":" in name:
            name, derived = parse_function_name(name)
            qualifier = qualifier or derived
        spec = self._resolve(name, qualifier, payload, "RequestResponse")
        return await self._engine.invoke_stream(
            spec,
            payload or b"{}",
            request_id=request_id or str(uuid.uuid4()),
            client_context=client_context,
            tail=tail,
        )

    async def enqueue_unresolved(
        self, name: str, qualifier: str | None, payload: bytes, request_id: str
    ) -> None:
        """Queue an ``Event`` invocation without resolving ``qualifier`` now.

        A schedule's tick is accepted even when its alias is gone meanwhile: it is resolved
        when it is delivered, and dead-lettered then, as EventBridge's target would be.
        A request id the queue holds already raises ``sqlite3.IntegrityError``.
        """
        await self._queue.enqueue(name, qualifier, payload, request_id)

    def _resolve(
        self, name: str, qualifier: str | None, payload: bytes, invocation_type: str
    ) -> FunctionSpec:
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            operation = "InvokeAsync" if invocation_type == "Event" else "InvokeFunction"
            raise RequestTooLarge(
                f"Request must be smaller than {limit} bytes for the {operation} operation"
            )
        return resolve_spec(self._store, name, qualifier)
