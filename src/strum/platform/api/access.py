"""Who may call what: every request to the API is signed, and every operation authorised.

The middleware authenticates each request (AWS Signature Version 4 against keys the
platform issued, or an instance's session credentials), then authorises its operation
with IAM's action name on the resource ARN AWS would use ("Actions, resources, and
condition keys for AWS Lambda"), and records control-plane decisions in the audit log.
Only ``/strum/v1/health`` and the dashboard's sign-in page are open. ``OPERATIONS`` is the one
table of what each route is; a test checks that every route the API registers is in it.

The dashboard's pages (``by_cookie`` rows) are the one exception to SigV4: a browser cannot
sign requests, so they authenticate with the session cookie the sign-in page issued
(``CookieAuthenticator``, which also checks CSRF on every unsafe method), and are then
authorised exactly like API calls - the signed-in key's policy, the row's action and
resource. The two never mix: API routes ignore cookies (an ambient credential would make
every API call forgeable cross-site) and cookie routes ignore signatures.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from strum.platform import arns
from strum.platform.api._http import error_response, function_target, read_body
from strum.platform.api.layers import layer_name
from strum.platform.api.operations import (
    ANY,
    BODY_FUNCTION,
    CALLBACK,
    EXECUTION,
    FUNCTION,
    LAYER,
    LAYER_BY_ARN,
    LAYER_VERSION,
    LOG_GROUP,
    OPERATIONS,
    PATH_FUNCTION,
    PATH_LOG_GROUP,
    TAGGED,
    UNLISTED,
    UNQUALIFIED,
    Operation,
    operation_for,
)
from strum.platform.api.uploads import too_large
from strum.platform.errors import (
    AccessDenied,
    PlatformError,
    ResourceNotFound,
    UnknownOperation,
)
from strum.platform.identity import Authority, Caller, Policy
from strum.platform.state import AuditEntry, AuditLog, parse_function_name, parse_layer_version_arn

__all__ = [
    "DASHBOARD_SIGN_IN",
    "OPEN_PATHS",
    "OPERATIONS",
    "CookieAuthenticator",
    "Operation",
    "access_middleware",
    "caller_scope",
    "refuse_foreign",
]

# Where a browser signs in to the dashboard with an access key id and secret.
DASHBOARD_SIGN_IN = "/strum/sign-in"
# ``/strum`` only redirects to the dashboard's ``/strum/`` (which then asks to sign in).
OPEN_PATHS = frozenset({"/strum/v1/health", DASHBOARD_SIGN_IN, "/strum"})
# Code download links are presigned (``X-Strum-Signature``), like AWS's S3 links.
CODE_LINKS = "/strum/code/"


class CookieAuthenticator(Protocol):
    """How the dashboard's routes learn their caller (see the module)."""

    async def caller(self, request: web.Request) -> Caller:
        """The signed-in caller; a ``PlatformError`` for no, a forged or an expired
        session, and for an unsafe method without its CSRF token or from another site."""

    def refused(self, request: web.Request, error: PlatformError) -> web.StreamResponse:
        """What a browser gets instead (the sign-in page, or a 403 page)."""


def access_middleware(
    authority: Authority,
    audit: AuditLog,
    *,
    arn: Callable[[str, str | None], str],
    log_group_arn: Callable[[str], str],
    presigned: Callable[[str, Mapping[str, str]], bool],
    resource_policies: Callable[[str, str | None], list[Policy]],
    layer_arn: Callable[[str, int | None], str] = lambda name, version: "*",
    layer_policies: Callable[[str, int], list[Policy]] = lambda name, version: [],
    cookies: CookieAuthenticator | None = None,
) -> Middleware:
    """Authenticate and authorise every request but the health check (see the module).

    ``arn(name, qualifier)`` is a function's ARN, ``log_group_arn(name)`` its log group's;
    ``presigned(path, query)`` accepts a code download link ``GetFunction`` handed out;
    ``resource_policies(name, qualifier)`` are the policies on a function (AddPermission);
    ``layer_arn(name, version)`` and ``layer_policies(name, version)`` the same of layers.
    ``cookies`` authenticates the dashboard's pages (without it they refuse everyone).
    """
    resolve = _Resolvers(arn, log_group_arn, resource_policies, layer_arn, layer_policies)

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
        operation = operation_for(request.method, route.canonical, request.query) if route else None
        if route is not None and operation is None:
            # Fail closed: a route missing from the table is for callers allowed everything.
            operation = UNLISTED
        caller: Caller | None = None
        resource = "*"
        if operation is not None and operation.by_cookie:
            if cookies is None:
                return error_response(AccessDenied("The dashboard is not served"), "")
            try:
                caller = await cookies.caller(request)
            except PlatformError as error:
                _record(audit, request, None, operation.action, "*", f"denied: {error.error_type}")
                return cookies.refused(request, error)
            return await _authorized(
                request, handler, operation, caller, authority, audit, cookies.refused, resolve
            )
        try:
            # The headers first: an unsigned or unknown caller is refused before its body
            # is read.
            pending = authority.identify(request.headers)
            body = (
                None
                if operation is not None and operation.streamed
                else await _body(request, operation)
            )
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
        return await _authorized(
            request,
            handler,
            operation,
            caller,
            authority,
            audit,
            lambda request, error: error_response(error, str(uuid.uuid4())),
            resolve,
        )

    return check_access


@dataclass(frozen=True)
class _Resolvers:
    """How the middleware names what a request is about, and the policies on it."""

    arn: Callable[[str, str | None], str]
    log_group_arn: Callable[[str], str]
    resource_policies: Callable[[str, str | None], list[Policy]]
    layer_arn: Callable[[str, int | None], str]
    layer_policies: Callable[[str, int], list[Policy]]


async def _authorized(
    request: web.Request,
    handler: Handler,
    operation: Operation | None,
    caller: Caller,
    authority: Authority,
    audit: AuditLog,
    refuse: Callable[[web.Request, PlatformError], web.StreamResponse],
    resolve: _Resolvers,
) -> web.StreamResponse:
    """Authorise an authenticated ``caller`` for ``operation``, then run the handler."""
    resource = "*"
    # The rest of the request answers in the caller's region and account.
    with arns.scoped(caller_scope(caller)):
        try:
            if operation is None:
                raise UnknownOperation(request.method, request.path)
            target: tuple[str, str | None] | None = None
            await _refuse_foreign_reference(request, operation, caller)
            policies: list[Policy] = []
            try:
                if operation.resource in (LAYER, LAYER_VERSION, LAYER_BY_ARN):
                    resource, policies = _layer_resource(
                        request, operation, resolve.layer_arn, resolve.layer_policies
                    )
                else:
                    resource, target = await _resource(
                        request, operation, resolve.arn, resolve.log_group_arn
                    )
                    policies = resolve.resource_policies(*target) if target else []
            except PlatformError:
                # A name that cannot be parsed: authorised against "*" (which only a
                # caller allowed everything passes); the route then answers why.
                resource = "*"
            context: dict[str, str | bool] = {
                "aws:SourceIp": request.remote or "",
                "aws:SecureTransport": request.secure,
                "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            authority.authorize(
                caller, operation.action, resource, resource_policies=policies, context=context
            )
            # As on AWS, a function may only use the layers its creator may read.
            if operation.action in _TAKES_LAYERS:
                for named in await _layers_named(request):
                    parsed = parse_layer_version_arn(named)
                    if parsed is None:
                        continue  # the route answers what is wrong with it
                    authority.authorize(
                        caller,
                        "lambda:GetLayerVersion",
                        named,
                        resource_policies=resolve.layer_policies(parsed[2], parsed[3]),
                        context=context,
                    )
        except PlatformError as error:
            action = operation.action if operation else f"{request.method} {request.path}"
            _record(audit, request, caller, action, resource, f"denied: {error.error_type}")
            return refuse(request, error)
        if operation.audited:
            _record(audit, request, caller, operation.action, resource, "allowed")
        return await handler(request)


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


_TAKES_LAYERS = frozenset({"lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"})


async def _layers_named(request: web.Request) -> list[str]:
    """The layer version ARNs a CreateFunction / UpdateFunctionConfiguration body names."""
    try:
        layers = (await read_body(request)).get("Layers")
    except PlatformError:
        return []
    return [arn for arn in layers if isinstance(arn, str)] if isinstance(layers, list) else []


async def _body(request: web.Request, operation: Operation | None) -> bytes:
    """The whole body; over the size the API takes, AWS's ``RequestEntityTooLargeException``."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        name = operation.action.split(":", 1)[-1] if operation else request.path
        raise too_large(name) from None


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
    if kind == PATH_LOG_GROUP:
        return log_group_arn(request.match_info["function"]), None
    named = request.query.get("function")
    if kind == LOG_GROUP:
        return (log_group_arn(named) if named else "*"), None
    return (arn(named, None), (named, None)) if named else ("*", None)


def _layer_resource(
    request: web.Request,
    operation: Operation,
    layer_arn: Callable[[str, int | None], str],
    layer_policies: Callable[[str, int], list[Policy]],
) -> tuple[str, list[Policy]]:
    """The ARN a layer operation is authorised on, and the policies on that version."""
    if operation.resource == LAYER_BY_ARN:
        arn = request.query.get("Arn", "")
        parsed = parse_layer_version_arn(arn)
        if parsed is None:
            return "*", []
        return arn, layer_policies(parsed[2], parsed[3])
    name = layer_name(request.match_info["layer"])
    if operation.resource == LAYER:
        return layer_arn(name, None), []
    version = request.match_info["version"]
    if not version.isdigit():
        return "*", []
    return layer_arn(name, int(version)), layer_policies(name, int(version))


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
