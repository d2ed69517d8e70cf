"""Invoke: AWS's ``POST /2015-03-31/functions/{name}/invocations``, and the same call made
by an instance through its Runtime API listener (``@task``'s ``.delay()``).

The route checks what AWS checks at its front end (invocation and log types, the client
context, that a payload is JSON) and answers in AWS's terms; resolving what to run, the
payload limits and the invocation types are the ``Invoker``'s.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from urllib.parse import unquote

from aiohttp import web

from strum.platform.api._http import error_response, function_target
from strum.platform.engine import SelfInvoke
from strum.platform.errors import (
    AccessDenied,
    InvalidParameterValue,
    InvalidRequestContent,
    PlatformError,
    model_error,
)
from strum.platform.invoke import (
    INVOCATION_TYPES,
    SYNC_PAYLOAD_LIMIT,
    Invoker,
    invocation_type_error,
)
from strum.platform.spec import FunctionSpec

__all__ = ["add_routes", "self_invoke_route"]

CLIENT_CONTEXT_LIMIT = 3583
_FUNCTIONS = "/2015-03-31/functions/"


def add_routes(app: web.Application, invoker: Invoker) -> None:
    """Register the Invoke API on ``app``."""

    async def invoke(request: web.Request) -> web.StreamResponse:
        try:
            return await _invoke(invoker, request)
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))

    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)


def self_invoke_route(invoker: Invoker) -> SelfInvoke:
    """The Invoke API as an instance's Runtime API listener serves it: an instance may
    invoke its own function, asynchronously, and nothing else (``@task``'s ``.delay()``;
    an instance without network cannot reach the platform's API)."""

    async def invoke_self(spec: FunctionSpec, request: web.BaseRequest) -> web.StreamResponse:
        name, _, rest = request.path[len(_FUNCTIONS) :].partition("/")
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if rest != "invocations" or unquote(name) != spec.name or kind != "Event":
            return error_response(
                AccessDenied(
                    f"{spec.name} may only invoke itself, asynchronously "
                    "(X-Amz-Invocation-Type: Event), from inside its sandbox"
                )
            )
        qualifier = request.query.get("Qualifier", spec.version)
        payload = await request.read()
        try:
            result = await invoker.invoke(spec.name, qualifier, payload, invocation_type="Event")
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))
        return web.Response(status=202, headers={"x-amzn-RequestId": result.request_id})

    return invoke_self


async def _invoke(invoker: Invoker, request: web.Request) -> web.StreamResponse:
    name, qualifier = function_target(request)
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in INVOCATION_TYPES:
        raise invocation_type_error(invocation_type)
    log_type = request.headers.get("X-Amz-Log-Type", "None")
    if log_type not in ("None", "Tail"):
        raise model_error(log_type, "logType", "Member must satisfy enum value set: [None, Tail]")
    client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
    payload = await request.read()
    if payload and invocation_type != "DryRun" and len(payload) <= SYNC_PAYLOAD_LIMIT:
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContent(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from None
    result = await invoker.invoke(
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
