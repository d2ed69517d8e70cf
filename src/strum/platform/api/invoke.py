"""Invoke: AWS's ``POST /2015-03-31/functions/{name}/invocations``, on the API and on each
instance's Runtime API listener (the one address an instance without network reaches);
InvokeWithResponseStream (an event stream of the body's chunks) and the deprecated
InvokeAsync (queued like ``InvocationType=Event``) on the API.

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
from strum.platform.api import eventstream
from strum.platform.api._http import error_response, function_target, qualified_target
from strum.platform.api.access import caller_scope, refuse_foreign
from strum.platform.engine import SelfInvoke, StreamFailed
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
    DurableExecutions,
    Invoker,
    invocation_type_error,
)
from strum.platform.spec import FunctionSpec

__all__ = ["INVOKE_ASYNC_PATH", "STREAMING_PATH", "add_routes", "instance_invoke_route"]

CLIENT_CONTEXT_LIMIT = 3583
STREAMING_PATH = "/2021-11-15/functions/{name}/response-streaming-invocations"
INVOKE_ASYNC_PATH = "/2014-11-13/functions/{name}/invoke-async"
_FUNCTIONS = "/2015-03-31/functions/"
_DURABLE = "/2025-12-01/durable-executions/"


def add_routes(app: web.Application, invoker: Invoker) -> None:
    """Register the Invoke API on ``app`` (the access middleware has checked the caller)."""

    async def invoke(request: web.Request) -> web.StreamResponse:
        try:
            name, qualifier = function_target(request)
            payload = await request.read()
            return await _invoke(invoker, name, qualifier, request.headers, payload)
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))

    async def invoke_streaming(request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        try:
            name, qualifier = function_target(request)
            payload = await request.read()
            return await _invoke_streaming(invoker, request, name, qualifier, payload, request_id)
        except PlatformError as error:
            return error_response(error, request_id)

    async def invoke_async(request: web.Request) -> web.StreamResponse:
        # The deprecated InvokeAsync: queued exactly as Invoke's InvocationType=Event is,
        # answering 202 and nothing else: the output's one member, Status, is the status
        # code itself (https://docs.aws.amazon.com/lambda/latest/api/API_InvokeAsync.html).
        try:
            name, qualifier = function_target(request)
            payload = await request.read()
            _check_json(payload)
            result = await invoker.invoke(name, qualifier, payload, invocation_type="Event")
        except PlatformError as error:
            return error_response(error, str(uuid.uuid4()))
        return web.Response(status=202, headers={"x-amzn-RequestId": result.request_id})

    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)
    app.router.add_post(STREAMING_PATH, invoke_streaming)
    app.router.add_post(INVOKE_ASYNC_PATH, invoke_async)
    app.router.add_post(INVOKE_ASYNC_PATH + "/", invoke_async)


def instance_invoke_route(
    invoker: Invoker,
    authority: Authority,
    arn: Callable[[str, str | None], str],
    resource_policies: Callable[[str, str | None], list[Policy]],
    durable: DurableExecutions | None = None,
) -> SelfInvoke:
    """The Invoke API as an instance's Runtime API listener serves it: signed, authorised
    with ``lambda:InvokeFunction`` on the target (``arn(name, qualifier)``), then run like
    any Invoke. Besides it only the durable-execution SDK's two calls are served there
    (``durable_sdk_call``), so a durable function without network still checkpoints."""

    async def invoke(spec: FunctionSpec, request: web.BaseRequest) -> web.StreamResponse:
        reference, _, rest = request.path[len(_FUNCTIONS) :].partition("/")
        try:
            if request.path.startswith(_DURABLE) and durable is not None:
                return await durable_sdk_call(durable, authority, request)
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


async def durable_sdk_call(
    durable: DurableExecutions, authority: Authority, request: web.BaseRequest
) -> web.StreamResponse:
    """CheckpointDurableExecution or GetDurableExecutionState from an instance: signed and
    authorised on the execution's ARN like on the API."""
    raw = request.raw_path.split("?", 1)[0][len(_DURABLE) :]
    encoded, _, action = raw.rpartition("/")
    execution = unquote(encoded)
    if (request.method, action) == ("POST", "checkpoint"):
        action_name = "lambda:CheckpointDurableExecution"
    elif (request.method, action) == ("GET", "state"):
        action_name = "lambda:GetDurableExecutionState"
    else:
        raise AccessDenied(
            "an instance reaches only Invoke, CheckpointDurableExecution and "
            "GetDurableExecutionState here"
        )
    body = await request.read()
    caller = authority.authenticate(
        method=request.method, raw_path=request.raw_path, headers=request.headers, body=body
    )
    with arns.scoped(caller_scope(caller)):
        refuse_foreign(execution, caller, action_name)
        authority.authorize(caller, action_name, execution)
    if action == "checkpoint":
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            raise InvalidRequestContent("Could not parse request body into json") from None
        token, changes = document.get("CheckpointToken"), document.get("Updates") or []
        if not isinstance(token, str) or not isinstance(changes, list):
            raise InvalidParameterValue("CheckpointToken (a string) and Updates (a list) please")
        answer = durable.checkpoint(execution, token, changes)
    else:
        query = request.query
        size = query.get("MaxItems", "")
        answer = durable.state(
            execution,
            query.get("CheckpointToken", ""),
            query.get("Marker"),
            int(size) if size.isdigit() else None,
        )
    return web.Response(
        body=json.dumps(answer).encode(),
        content_type="application/json",
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


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
    if invocation_type != "DryRun":
        _check_json(payload)
    result = await invoker.invoke(
        name,
        qualifier,
        payload,
        invocation_type=invocation_type,
        tail=log_type == "Tail" and invocation_type == "RequestResponse",
        client_context=client_context,
        durable_name=headers.get("X-Amz-Durable-Execution-Name"),
    )
    answer = {"x-amzn-RequestId": result.request_id}
    if "X-Amz-Durable-Execution-Arn" in result.headers:
        answer["X-Amz-Durable-Execution-Arn"] = result.headers["X-Amz-Durable-Execution-Arn"]
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


async def _invoke_streaming(
    invoker: Invoker,
    request: web.Request,
    name: str,
    qualifier: str | None,
    payload: bytes,
    request_id: str,
) -> web.StreamResponse:
    """InvokeWithResponseStream: the function's body as ``PayloadChunk`` events as it
    streams them, then ``InvokeComplete`` (with ``ErrorCode``/``ErrorDetails`` when the
    function failed, ``LogResult`` when a tail was asked for)."""
    headers = request.headers
    invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in ("RequestResponse", "DryRun"):
        raise model_error(
            invocation_type,
            "invocationType",
            "Member must satisfy enum value set: [RequestResponse, DryRun]",
        )
    log_type = headers.get("X-Amz-Log-Type", "None")
    if log_type not in ("None", "Tail"):
        raise model_error(log_type, "logType", "Member must satisfy enum value set: [None, Tail]")
    client_context = _client_context(headers.get("X-Amz-Client-Context"))
    if invocation_type == "DryRun":
        result = await invoker.invoke(name, qualifier, payload, invocation_type="DryRun")
        return web.Response(status=204, headers={"x-amzn-RequestId": result.request_id})
    _check_json(payload)
    answer, body = await invoker.invoke_stream(
        name,
        qualifier,
        payload,
        request_id=request_id,
        client_context=client_context,
        tail=log_type == "Tail",
    )
    response = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": eventstream.CONTENT_TYPE,
            "X-Amz-Executed-Version": answer["X-Amz-Executed-Version"],
            "x-amzn-RequestId": answer["x-amzn-RequestId"],
        },
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    complete: dict[str, str] = {}
    failed_early = bool(answer.get("X-Amz-Function-Error"))
    try:
        async for chunk in body:
            if failed_early:
                # Failed before streaming anything: the chunk is the error document.
                complete = {"ErrorCode": "Unhandled", "ErrorDetails": _details(chunk)}
            elif chunk:
                await response.write(
                    eventstream.event_message("PayloadChunk", chunk, "application/octet-stream")
                )
    except StreamFailed as failure:
        complete = {"ErrorCode": failure.error_type, "ErrorDetails": _details(failure.document)}
    except ConnectionError:
        return response  # the caller went away; the invocation runs to its end regardless
    if body.log_tail is not None:
        complete["LogResult"] = base64.b64encode(body.log_tail.encode()).decode()
    await response.write(
        eventstream.event_message(
            "InvokeComplete", json.dumps(complete).encode(), "application/json"
        )
    )
    await response.write_eof()
    return response


def _details(document: bytes) -> str:
    """``ErrorDetails``: the error document's message, or the document when it has none."""
    try:
        parsed = json.loads(document)
    except ValueError:
        return document.decode("utf-8", "replace")
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return document.decode("utf-8", "replace")


def _check_json(payload: bytes) -> None:
    """AWS's front end refuses a payload that is not JSON (one over the limit is refused
    for its size instead, later)."""
    if not payload or len(payload) > SYNC_PAYLOAD_LIMIT:
        return
    try:
        json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContent(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None


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
