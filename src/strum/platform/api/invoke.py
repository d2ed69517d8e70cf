"""Invoke: AWS's ``POST /2015-03-31/functions/{name}/invocations``, on the API and on each
instance's Runtime API listener (the one address an instance without network reaches).

Both are signed and authorised like every call: on the API by the access middleware, on
an instance's listener here, with the same ``Authority`` - the instance signs with its own
session credentials (``@task``'s ``.delay()``, or boto3 inside the function), and its
execution policy decides what it may invoke. The route checks what AWS checks at its front
end (invocation and log types, the client context, that a payload is JSON) and answers in
AWS's terms; resolving what to run, the payload limits and the invocation types are the
``Invoker``'s.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from aiohttp import web

from strum.platform import arns
from strum.platform.api._http import error_response, function_target, qualified_target
from strum.platform.api.access import caller_scope, refuse_foreign
from strum.platform.engine import SelfInvoke
from strum.platform.errors import (
    AccessDenied,
    InvalidParameterValue,
    InvalidRequestContent,
    PlatformError,
    model_error,
)
from strum.platform.identity import Authority, Policy
from strum.platform.invoke import (
    INVOCATION_TYPES,
    SYNC_PAYLOAD_LIMIT,
    Invoker,
    invocation_type_error,
)
from strum.platform.spec import FunctionSpec

__all__ = ["add_routes", "instance_invoke_route"]

CLIENT_CONTEXT_LIMIT = 3583
_FUNCTIONS = "/2015-03-31/functions/"


def add_routes(app: web.Application, invoker: Invoker) -> None:
    """Register the Invoke API on ``app`` (the access middleware has checked the caller)."""

    async def invoke(request: web.Request) -> web.StreamResponse:
        try:
            name, qualifier = function_target(request)
            payload = await request.read()
            return await _invoke(invoker, name, qualifier, request.headers, payload)
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))

    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)


def instance_invoke_route(
    invoker: Invoker,
    authority: Authority,
    arn: Callable[[str, str | None], str],
    resource_policies: Callable[[str, str | None], list[Policy]],
) -> SelfInvoke:
    """The Invoke API as an instance's Runtime API listener serves it: signed, authorised
    with ``lambda:InvokeFunction`` on the target (``arn(name, qualifier)``), then run like
    any Invoke. Nothing but the Invoke API is served there."""

    async def invoke(spec: FunctionSpec, request: web.BaseRequest) -> web.StreamResponse:
        reference, _, rest = request.path[len(_FUNCTIONS) :].partition("/")
        try:
            if not request.path.startswith(_FUNCTIONS) or rest != "invocations":
                raise AccessDenied(
                    f"an instance of {spec.name} reaches only the Invoke API here "
                    "(POST /2015-03-31/functions/<name>/invocations)"
                )
            payload = await request.read()
            caller = authority.authenticate(
                method=request.method,
                raw_path=request.raw_path,
                headers=request.headers,
                body=payload,
            )
            with arns.scoped(caller_scope(caller)):
                refuse_foreign(unquote(reference), caller, "lambda:InvokeFunction")
                name, qualifier = qualified_target(
                    unquote(reference), request.query.get("Qualifier")
                )
                authority.authorize(
                    caller,
                    "lambda:InvokeFunction",
                    arn(name, qualifier),
                    resource_policies=resource_policies(name, qualifier),
                )
                return await _invoke(invoker, name, qualifier, request.headers, payload)
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))

    return invoke


async def _invoke(
    invoker: Invoker,
    name: str,
    qualifier: str | None,
    headers: Mapping[str, str],
    payload: bytes,
) -> web.StreamResponse:
    invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in INVOCATION_TYPES:
        raise invocation_type_error(invocation_type)
    log_type = headers.get("X-Amz-Log-Type", "None")
    if log_type not in ("None", "Tail"):
        raise model_error(log_type, "logType", "Member must satisfy enum value set: [None, Tail]")
    client_context = _client_context(headers.get("X-Amz-Client-Context"))
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
    answer = {"x-amzn-RequestId": result.request_id}
    if invocation_type == "Event":
        return web.Response(status=202, headers=answer)
    if invocation_type == "DryRun":
        return web.Response(status=204, headers=answer)
    answer["X-Amz-Executed-Version"] = result.executed_version
    if result.function_error:
        answer["X-Amz-Function-Error"] = result.function_error
    if result.log_tail is not None:
        answer["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode()
    answer["Content-Type"] = result.content_type or "application/json"
    return web.Response(status=200, body=result.payload, headers=answer)


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
