"""Invoke: AWS's ``POST /2015-03-31/functions/{name}/invocations``, and the coroutine
every other entry point (Function URLs, the async queue, schedules) invokes through.

``invoke_function`` resolves what to run (``$LATEST``, a version, an alias - weighted
aliases pick by weight), applies AWS's payload limits (6 MB synchronous, 1 MB
asynchronous) and hands the invocation to the engine (``RequestResponse``) or the
durable queue (``Event``); ``DryRun`` only checks that the function exists.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from typing import TYPE_CHECKING

from aiohttp import web

from strum.platform import apishapes
from strum.platform.apierrors import (
    ApiError,
    InvalidParameterValue,
    InvalidRequestContent,
    RequestTooLarge,
    TooManyRequests,
)
from strum.platform.control import function_target
from strum.platform.store import parse_function_name
from strum.platform.types import InvokeResult, Throttled

if TYPE_CHECKING:
    from strum.platform.server import Platform

logger = logging.getLogger(__name__)

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
CLIENT_CONTEXT_LIMIT = 3583
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


async def invoke_function(
    platform: Platform,
    name: str,
    qualifier: str | None,
    payload: bytes,
    *,
    invocation_type: str = "RequestResponse",
    tail: bool = False,
    client_context: str | None = None,
    request_id: str | None = None,
) -> InvokeResult:
    """Invoke ``name`` at ``qualifier`` (None, "$LATEST", a version or an alias).

    ``name`` may also be ``name:qualifier`` or an ARN. ``client_context`` is the
    ``X-Amz-Client-Context`` header as sent (base64 JSON). ``request_id`` keeps an id the
    caller already answered with (a Function URL's, a queued event's across its retries);
    by default a fresh one. Answers the engine's result for
    ``RequestResponse``; for ``Event`` and ``DryRun`` an empty result carrying the request
    id. Raises ``ApiError`` (``ResourceNotFound``, ``RequestTooLarge``...) for what AWS
    answers with an error status, and the engine's ``Throttled`` when no instance may run.
    """
    if ":" in name:
        name, derived = parse_function_name(name)
        qualifier = qualifier or derived
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(payload) > limit:
        operation = "InvokeAsync" if invocation_type == "Event" else "InvokeFunction"
        raise RequestTooLarge(
            f"Request must be smaller than {limit} bytes for the {operation} operation"
        )
    spec = platform.store.function_spec(name, qualifier)
    # Callers that own a request id (Function URLs, async retries) keep it across the call.
    request_id = request_id or str(uuid.uuid4())
    if invocation_type == "RequestResponse":
        result: InvokeResult = await platform.engine.invoke(
            spec,
            payload or b"{}",
            request_id=request_id,
            client_context=client_context,
            tail=tail,
        )
        return result
    if invocation_type == "Event":
        await platform.asyncq.enqueue(spec.name, qualifier, payload or b"{}", request_id)
        logger.debug("queued event %s for %s", request_id, spec.arn)
    elif invocation_type != "DryRun":
        raise _invocation_type_error(invocation_type)
    return InvokeResult(request_id=request_id, payload=b"", executed_version=spec.version)


def add_routes(app: web.Application, platform: Platform) -> None:
    """Register the Invoke API on ``app``."""

    async def invoke(request: web.Request) -> web.StreamResponse:
        try:
            return await _invoke(platform, request)
        except Throttled as throttled:
            return TooManyRequests(str(throttled), throttled.reason).response(str(uuid.uuid4()))
        except ApiError as error:
            return error.response(str(uuid.uuid4()))

    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)


async def _invoke(platform: Platform, request: web.Request) -> web.StreamResponse:
    name, qualifier = function_target(request)
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in INVOCATION_TYPES:
        raise _invocation_type_error(invocation_type)
    log_type = request.headers.get("X-Amz-Log-Type", "None")
    if log_type not in ("None", "Tail"):
        raise apishapes.model_error(
            log_type, "logType", "Member must satisfy enum value set: [None, Tail]"
        )
    client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
    payload = await request.read()
    if payload and invocation_type != "DryRun" and len(payload) <= SYNC_PAYLOAD_LIMIT:
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContent(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None
    result = await invoke_function(
        platform,
        name,
        qualifier,
        payload,
        invocation_type=invocation_type,
        tail=log_type == "Tail" and invocation_type == "RequestResponse",
        client_context=client_context,
    )
    headers = {"x-amzn-RequestId": result.request_id}
    if invocation_type == "Event":
        return web.Response(status=202, headers=headers)
    if invocation_type == "DryRun":
        return web.Response(status=204, headers=headers)
    headers["X-Amz-Executed-Version"] = result.executed_version
    if result.function_error:
        headers["X-Amz-Function-Error"] = result.function_error
    if result.log_tail is not None:
        headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode()
    headers["Content-Type"] = result.content_type or "application/json"
    return web.Response(status=200, body=result.payload, headers=headers)


def _client_context(header: str | None) -> str | None:
    """``X-Amz-Client-Context`` checked like AWS (base64 of a JSON object, 3583 bytes
    decoded at most); passed on as sent, the engine decodes it for the Runtime API."""
    if not header:
        return None
    try:
        decoded = base64.b64decode(header, validate=True)
        document = json.loads(decoded)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    if not isinstance(document, dict):
        raise InvalidParameterValue("Client context must be a valid Base64-encoded JSON object.")
    if len(decoded) > CLIENT_CONTEXT_LIMIT:
        raise InvalidParameterValue(
            f"Client context must be at most {CLIENT_CONTEXT_LIMIT} bytes once decoded"
        )
    return header


def _invocation_type_error(invocation_type: str) -> ApiError:
    return apishapes.model_error(
        invocation_type,
        "invocationType",
        "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
    )
