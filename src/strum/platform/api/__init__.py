"""AWS Lambda's REST API as boto3 calls it, and strum's own ``/strum/v1`` routes.

``access`` signs in and authorises every request (SigV4, IAM-style policies, the audit
log) by the table of ``operations``; ``functions`` (functions, versions, aliases,
concurrency, URL configs), ``invoke`` (the
Invoke routes - buffered, streamed as an ``eventstream``, and the deprecated InvokeAsync -
and Invoke on instances' Runtime API listeners), ``async_config``
(event-invoke configs and dead letters), ``schedules``, ``keys`` (access keys, the audit
log), ``permissions`` (functions' resource policies), ``tags``, ``account`` (account
settings, recursion and runtime-management configs), ``provisioned`` (provisioned
concurrency), ``layers`` (layer versions and their policies), ``uploads`` (big packages,
staged by hash), ``durable`` (durable executions and their callbacks) and ``status``;
``model`` checks requests against botocore's service model; ``shapes`` checks requests and
renders answers in AWS's shapes. Errors raised below become responses here, in one place
(``error_response``). Imports ``invoke``,
``state`` and ``identity`` below it, never ``urls``: the listeners it opens and closes are
passed in.
"""

from strum.platform.api import (
    access,
    account,
    async_config,
    durable,
    eventstream,
    functions,
    invoke,
    keys,
    layers,
    model,
    operations,
    permissions,
    provisioned,
    schedules,
    shapes,
    status,
    tags,
    uploads,
)
from strum.platform.api._http import (
    answering_errors,
    error_response,
    function_target,
    json_response,
    qualified_target,
    read_body,
)
from strum.platform.api.access import OPERATIONS, access_middleware
from strum.platform.api.functions import FunctionRoutes, Instances, UrlListeners
from strum.platform.api.invoke import instance_invoke_route
from strum.platform.api.status import StatusRoutes

__all__ = [
    "OPERATIONS",
    "FunctionRoutes",
    "Instances",
    "StatusRoutes",
    "UrlListeners",
    "access",
    "access_middleware",
    "account",
    "answering_errors",
    "async_config",
    "durable",
    "error_response",
    "eventstream",
    "function_target",
    "functions",
    "instance_invoke_route",
    "invoke",
    "json_response",
    "keys",
    "layers",
    "model",
    "operations",
    "permissions",
    "provisioned",
    "qualified_target",
    "read_body",
    "schedules",
    "shapes",
    "status",
    "tags",
    "uploads",
]
