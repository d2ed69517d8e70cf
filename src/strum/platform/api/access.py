"""Who may call what: every request to the API is signed, and every operation authorised.

The middleware authenticates each request (AWS Signature Version 4 against keys the
platform issued, or an instance's session credentials), then authorises its operation
with IAM's action name on the resource ARN AWS would use ("Actions, resources, and
condition keys for AWS Lambda"), and records control-plane decisions in the audit log.
Only ``/strum/v1/health`` is open. ``OPERATIONS`` is the one table of what each route is;
a test checks that every route the API registers is in it.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from strum.platform import arns
from strum.platform.api._http import error_response, function_target, read_body
from strum.platform.errors import (
    AccessDenied,
    PlatformError,
    RequestEntityTooLarge,
    ResourceNotFound,
    UnknownOperation,
)
from strum.platform.identity import Authority, Caller, Policy
from strum.platform.state import AuditEntry, AuditLog, parse_function_name

__all__ = [
    "OPEN_PATHS",
    "OPERATIONS",
    "Operation",
    "access_middleware",
    "caller_scope",
    "refuse_foreign",
]

OPEN_PATHS = frozenset({"/strum/v1/health"})
# Code download links are presigned (``X-Strum-Signature``), like AWS's S3 links.
CODE_LINKS = "/strum/code/"

# How an operation names its resource.
FUNCTION = "function"  # the {name} in the path, qualified by ?Qualifier= or the name itself
UNQUALIFIED = "unqualified"  # the {name} in the path, without a qualifier
BODY_FUNCTION = "body function"  # CreateFunction: the FunctionName in the body
PATH_FUNCTION = "path function"  # strum's routes: the {function} in the path
QUERY_FUNCTION = "query function"  # strum's routes: ?function=, or every function
LOG_GROUP = "log group"  # the function's log group, from ?function=
TAGGED = "tagged"  # the tagging API: the resource's ARN is the path's {arn}
EXECUTION = "execution"  # a durable execution: its ARN is the path's {arn}
CALLBACK = "callback"  # a durable execution's callback: the execution its {callback} names
ANY = "any"  # "*": the operation is not about one resource


@dataclass(frozen=True)
class Operation:
    """An API operation: its IAM action, how its resource is named, whether it is audited."""

    action: str
    resource: str = FUNCTION
    # The data plane (Invoke) is not audited when allowed: it is the hot path, and its
    # record is the function's own log.
    audited: bool = True
    # Another operation at the same route when the query has this parameter (AWS's
    # ``?List=ALL`` listings share their path with a Get).
    listing: tuple[str, Operation] | None = None


_F = "/2015-03-31/functions"
_D = "/2025-12-01/durable-executions/{arn}"
_C = "/2025-12-01/durable-execution-callbacks/{callback}"
_ONE = _F + "/{name}"
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", _F): Operation("lambda:CreateFunction", BODY_FUNCTION),
    ("GET", _F): Operation("lambda:ListFunctions", ANY),
    ("GET", _F + "/"): Operation("lambda:ListFunctions", ANY),
    ("GET", _ONE): Operation("lambda:GetFunction"),
    ("DELETE", _ONE): Operation("lambda:DeleteFunction"),
    ("GET", _ONE + "/configuration"): Operation("lambda:GetFunctionConfiguration"),
    ("PUT", _ONE + "/configuration"): Operation("lambda:UpdateFunctionConfiguration"),
    ("PUT", _ONE + "/code"): Operation("lambda:UpdateFunctionCode"),
    ("POST", _ONE + "/versions"): Operation("lambda:PublishVersion"),
    ("GET", _ONE + "/versions"): Operation("lambda:ListVersionsByFunction"),
    ("POST", _ONE + "/aliases"): Operation("lambda:CreateAlias", UNQUALIFIED),
    ("GET", _ONE + "/aliases"): Operation("lambda:ListAliases", UNQUALIFIED),
    ("GET", _ONE + "/aliases/{alias}"): Operation("lambda:GetAlias", UNQUALIFIED),
    ("PUT", _ONE + "/aliases/{alias}"): Operation("lambda:UpdateAlias", UNQUALIFIED),
    ("DELETE", _ONE + "/aliases/{alias}"): Operation("lambda:DeleteAlias", UNQUALIFIED),
    ("POST", _ONE + "/invocations"): Operation("lambda:InvokeFunction", audited=False),
    # InvokeWithResponseStream is authorised as lambda:InvokeFunction, as on AWS.
    ("POST", "/2021-11-15/functions/{name}/response-streaming-invocations"): Operation(
        "lambda:InvokeFunction", audited=False
    ),
    ("POST", "/2014-11-13/functions/{name}/invoke-async"): Operation(
        "lambda:InvokeAsync", audited=False
    ),
    ("POST", "/2014-11-13/functions/{name}/invoke-async/"): Operation(
        "lambda:InvokeAsync", audited=False
    ),
    ("POST", _ONE + "/policy"): Operation("lambda:AddPermission"),
    ("GET", _ONE + "/policy"): Operation("lambda:GetPolicy"),
    ("DELETE", _ONE + "/policy/{sid}"): Operation("lambda:RemovePermission"),
    ("PUT", "/2019-09-30/functions/{name}/provisioned-concurrency"): Operation(
        "lambda:PutProvisionedConcurrencyConfig"
    ),
    ("GET", "/2019-09-30/functions/{name}/provisioned-concurrency"): Operation(
        "lambda:GetProvisionedConcurrencyConfig",
        listing=("List", Operation("lambda:ListProvisionedConcurrencyConfigs", UNQUALIFIED)),
    ),
    ("DELETE", "/2019-09-30/functions/{name}/provisioned-concurrency"): Operation(
        "lambda:DeleteProvisionedConcurrencyConfig"
    ),
    ("PUT", "/2017-10-31/functions/{name}/concurrency"): Operation(
        "lambda:PutFunctionConcurrency", UNQUALIFIED
    ),
    ("GET", "/2019-09-30/functions/{name}/concurrency"): Operation(
        "lambda:GetFunctionConcurrency", UNQUALIFIED
    ),
    ("DELETE", "/2017-10-31/functions/{name}/concurrency"): Operation(
        "lambda:DeleteFunctionConcurrency", UNQUALIFIED
    ),
    ("POST", "/2021-10-31/functions/{name}/url"): Operation("lambda:CreateFunctionUrlConfig"),
    ("GET", "/2021-10-31/functions/{name}/url"): Operation("lambda:GetFunctionUrlConfig"),
    ("PUT", "/2021-10-31/functions/{name}/url"): Operation("lambda:UpdateFunctionUrlConfig"),
    ("DELETE", "/2021-10-31/functions/{name}/url"): Operation("lambda:DeleteFunctionUrlConfig"),
    ("GET", "/2021-10-31/functions/{name}/urls"): Operation(
        "lambda:ListFunctionUrlConfigs", UNQUALIFIED
    ),
    ("PUT", "/2019-09-25/functions/{name}/event-invoke-config"): Operation(
        "lambda:PutFunctionEventInvokeConfig"
    ),
    ("POST", "/2019-09-25/functions/{name}/event-invoke-config"): Operation(
        "lambda:UpdateFunctionEventInvokeConfig"
    ),
    ("GET", "/2019-09-25/functions/{name}/event-invoke-config"): Operation(
        "lambda:GetFunctionEventInvokeConfig"
    ),
    ("DELETE", "/2019-09-25/functions/{name}/event-invoke-config"): Operation(
        "lambda:DeleteFunctionEventInvokeConfig"
    ),
    ("GET", "/2019-09-25/functions/{name}/event-invoke-config/list"): Operation(
        "lambda:ListFunctionEventInvokeConfigs", UNQUALIFIED
    ),
    ("POST", "/2017-03-31/tags/{arn}"): Operation("lambda:TagResource", TAGGED),
    ("DELETE", "/2017-03-31/tags/{arn}"): Operation("lambda:UntagResource", TAGGED),
    ("GET", "/2017-03-31/tags/{arn}"): Operation("lambda:ListTags", TAGGED),
    ("GET", "/2016-08-19/account-settings"): Operation("lambda:GetAccountSettings", ANY),
    ("GET", "/2024-08-31/functions/{name}/recursion-config"): Operation(
        "lambda:GetFunctionRecursionConfig", UNQUALIFIED
    ),
    ("PUT", "/2024-08-31/functions/{name}/recursion-config"): Operation(
        "lambda:PutFunctionRecursionConfig", UNQUALIFIED
    ),
    ("GET", "/2021-07-20/functions/{name}/runtime-management-config"): Operation(
        "lambda:GetRuntimeManagementConfig"
    ),
    ("PUT", "/2021-07-20/functions/{name}/runtime-management-config"): Operation(
        "lambda:PutRuntimeManagementConfig"
    ),
    # Durable executions are authorised on the execution's ARN, callbacks on the ARN of the
    # execution they belong to, listings on the function.
    ("POST", _D + "/checkpoint"): Operation("lambda:CheckpointDurableExecution", EXECUTION, False),
    ("GET", _D + "/state"): Operation("lambda:GetDurableExecutionState", EXECUTION, False),
    ("GET", _D + "/history"): Operation("lambda:GetDurableExecutionHistory", EXECUTION),
    ("POST", _D + "/stop"): Operation("lambda:StopDurableExecution", EXECUTION),
    ("GET", _D): Operation("lambda:GetDurableExecution", EXECUTION),
    ("GET", "/2025-12-01/functions/{name}/durable-executions"): Operation(
        "lambda:ListDurableExecutionsByFunction"
    ),
    ("POST", _C + "/succeed"): Operation("lambda:SendDurableExecutionCallbackSuccess", CALLBACK),
    ("POST", _C + "/fail"): Operation("lambda:SendDurableExecutionCallbackFailure", CALLBACK),
    ("POST", _C + "/heartbeat"): Operation(
        "lambda:SendDurableExecutionCallbackHeartbeat", CALLBACK
    ),
    # A code download link (GetFunction's Code.Location) is signed like any call.
    ("GET", "/strum/code/{sha}.zip"): Operation("lambda:GetFunction", ANY),
    # strum's own routes: actions in a "strum:" namespace of their own, logs as CloudWatch's.
    ("GET", "/strum/v1/status"): Operation("strum:GetPlatformStatus", ANY),
    ("GET", "/strum/v1/logs"): Operation("logs:FilterLogEvents", LOG_GROUP),
    ("PUT", "/strum/v1/schedules/{function}"): Operation("strum:PutSchedules", PATH_FUNCTION),
    ("GET", "/strum/v1/schedules/{function}"): Operation("strum:GetSchedules", PATH_FUNCTION),
    ("GET", "/strum/v1/events/dead"): Operation("strum:ListDeadLetters", QUERY_FUNCTION),
    ("POST", "/strum/v1/events/dead/redrive"): Operation(
        "strum:RedriveDeadLetters", QUERY_FUNCTION
    ),
    ("DELETE", "/strum/v1/events/dead"): Operation("strum:DiscardDeadLetters", QUERY_FUNCTION),
    ("POST", "/strum/v1/keys"): Operation("strum:CreateAccessKey", ANY),
    ("GET", "/strum/v1/keys"): Operation("strum:ListAccessKeys", ANY),
    ("DELETE", "/strum/v1/keys/{key}"): Operation("strum:RevokeAccessKey", ANY),
    ("GET", "/strum/v1/audit"): Operation("strum:GetAuditLog", ANY),
}


_UNLISTED = Operation("strum:UnlistedRoute", ANY)


def access_middleware(
    authority: Authority,
    audit: AuditLog,
    *,
    arn: Callable[[str, str | None], str],
    log_group_arn: Callable[[str], str],
    presigned: Callable[[str, Mapping[str, str]], bool],
    resource_policies: Callable[[str, str | None], list[Policy]],
) -> Middleware:
    """Authenticate and authorise every request but the health check (see the module).

    ``arn(name, qualifier)`` is a function's ARN, ``log_group_arn(name)`` its log group's;
    ``presigned(path, query)`` accepts a code download link ``GetFunction`` handed out;
    ``resource_policies(name, qualifier)`` are the policies on a function (AddPermission).
    """

    @web.middleware
    async def check_access(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        if request.path.startswith(CODE_LINKS) and "X-Strum-Signature" in request.query:
            if presigned(request.path, request.query):
                return await handler(request)
            return error_response(
                AccessDenied("Request has expired or its signature does not match"),
                str(uuid.uuid4()),
            )
        info = request.match_info
        route = info.route.resource if info.http_exception is None else None
        operation = OPERATIONS.get((request.method, route.canonical)) if route else None
        if route is not None and operation is None:
            # Fail closed: a route missing from the table is for callers allowed everything.
            operation = _UNLISTED
        listing = operation.listing if operation is not None else None
        if listing is not None and listing[0] in request.query:
            operation = listing[1]
        caller: Caller | None = None
        resource = "*"
        try:
            # The headers first: an unsigned or unknown caller is refused before its body
            # is read.
            pending = authority.identify(request.headers)
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                name = operation.action.partition(":")[2] if operation else "this"
                raise RequestEntityTooLarge(
                    f"Request must be smaller than {request.client_max_size} bytes for the "
                    f"{name} operation"
                ) from None
            caller = authority.confirm(
                pending,
                method=request.method,
                raw_path=request.raw_path,
                headers=request.headers,
                body=body,
            )
        except PlatformError as error:
            action = operation.action if operation else f"{request.method} {request.path}"
            _record(audit, request, caller, action, resource, f"denied: {error.error_type}")
            return error_response(error, str(uuid.uuid4()))
        # The rest of the request answers in the caller's region and account.
        with arns.scoped(caller_scope(caller)):
            try:
                if operation is None:
                    raise UnknownOperation(request.method, request.path)
                target: tuple[str, str | None] | None = None
                await _refuse_foreign_reference(request, operation, caller)
                try:
                    resource, target = await _resource(request, operation, arn, log_group_arn)
                except PlatformError:
                    # A name that cannot be parsed: authorised against "*" (which only a
                    # caller allowed everything passes); the route then answers why.
                    resource = "*"
                authority.authorize(
                    caller,
                    operation.action,
                    resource,
                    resource_policies=resource_policies(*target) if target else (),
                    context={
                        "aws:SourceIp": request.remote or "",
                        "aws:SecureTransport": request.secure,
                        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                )
            except PlatformError as error:
                action = operation.action if operation else f"{request.method} {request.path}"
                _record(audit, request, caller, action, resource, f"denied: {error.error_type}")
                return error_response(error, str(uuid.uuid4()))
            if operation.audited:
                _record(audit, request, caller, operation.action, resource, "allowed")
            return await handler(request)

    return check_access


def caller_scope(caller: Caller) -> arns.Scope:
    """Where a caller's ARNs point: the region it signed for, its own account."""
    return arns.Scope(caller.region, caller.account)


def refuse_foreign(reference: str, caller: Caller, action: str) -> None:
    """Refuse a function ARN (full or partial) outside the caller's region or account.

    AWS answers another region's function with ``ResourceNotFoundException`` ("Functions
    from 'us-west-2' are not reachable in this region ('us-east-1')") and another account's,
    which a resource-based policy there would have to allow, with ``AccessDenied``; the
    platform's accounts share no functions, so no such policy exists.
    """
    parts = reference.split(":")
    if reference.startswith("arn:") and len(parts) >= 6 and parts[2] == "lambda":
        region, account = parts[3], parts[4]
    elif len(parts) >= 3 and parts[1] == "function" and parts[0].isdigit():
        region, account = caller.region, parts[0]
    else:
        return
    if region != caller.region:
        raise ResourceNotFound(
            f"Functions from '{region}' are not reachable in this region ('{caller.region}')"
        )
    if account != caller.account:
        resource = arns.Scope(region, account).function(*_name_and_qualifier(parts))
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {action} on resource: "
            f"{resource} because no resource-based policy allows the {action} action"
        )


def _name_and_qualifier(parts: list[str]) -> tuple[str, str | None]:
    after = parts[parts.index("function") + 1 :] if "function" in parts else parts[-1:]
    return after[0], (after[1] if len(after) > 1 else None)


async def _refuse_foreign_reference(
    request: web.Request, operation: Operation, caller: Caller
) -> None:
    if operation.resource in (FUNCTION, UNQUALIFIED):
        refuse_foreign(request.match_info["name"], caller, operation.action)
    elif operation.resource in (TAGGED, EXECUTION):
        refuse_foreign(request.match_info["arn"], caller, operation.action)
    elif operation.resource == CALLBACK:
        named = _callback_execution(request.match_info["callback"])
        if named:
            refuse_foreign(named, caller, operation.action)
    elif operation.resource == BODY_FUNCTION:
        named = (await read_body(request)).get("FunctionName")
        if isinstance(named, str):
            refuse_foreign(named, caller, operation.action)


async def _resource(
    request: web.Request,
    operation: Operation,
    arn: Callable[[str, str | None], str],
    log_group_arn: Callable[[str], str],
) -> tuple[str, tuple[str, str | None] | None]:
    """The resource ARN an operation is authorised on, and the function (name, qualifier)
    whose resource policies apply to it, when it is one function's."""
    kind = operation.resource
    if kind == ANY:
        return "*", None
    if kind in (FUNCTION, UNQUALIFIED):
        name, qualifier = function_target(request)
        qualifier = qualifier if kind == FUNCTION else None
        return arn(name, qualifier), (name, qualifier)
    if kind == BODY_FUNCTION:
        named = (await read_body(request)).get("FunctionName")
        if not isinstance(named, str) or not named:
            return "*", None
        name, qualifier = parse_function_name(named)
        return arn(name, qualifier), None
    if kind == TAGGED:
        named = request.match_info["arn"]
        name, _ = parse_function_name(named)
        return named, (name, None)
    if kind in (EXECUTION, CALLBACK):
        named = (
            request.match_info["arn"]
            if kind == EXECUTION
            else _callback_execution(request.match_info["callback"])
        )
        return named or "*", None
    if kind == PATH_FUNCTION:
        name = request.match_info["function"]
        return arn(name, None), (name, None)
    named = request.query.get("function")
    if kind == LOG_GROUP:
        return (log_group_arn(named) if named else "*"), None
    return (arn(named, None), (named, None)) if named else ("*", None)


def _callback_execution(callback_id: str) -> str | None:
    """The execution ARN a callback id names (``invoke.durable_updates`` makes them)."""
    try:
        return base64.b64decode(callback_id, validate=True).decode().split("\n")[0] or None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _record(
    audit: AuditLog,
    request: web.Request,
    caller: Caller | None,
    action: str,
    resource: str,
    decision: str,
) -> None:
    audit.record(
        AuditEntry(
            time=time.time(),
            principal=caller.arn if caller else "anonymous",
            access_key_id=caller.access_key_id if caller else _claimed_key(request),
            action=action,
            resource=resource,
            decision=decision,
            source=request.remote or "",
        )
    )


def _claimed_key(request: web.Request) -> str:
    """The key id an unverified request claims, for the record (never trusted)."""
    header = request.headers.get("Authorization", "")
    start = header.find("Credential=")
    if start < 0:
        return ""
    return header[start + 11 :].split("/", 1)[0][:128]
