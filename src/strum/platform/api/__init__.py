"""AWS Lambda's REST API as boto3 calls it, and strum's own ``/strum/v1`` routes.

``functions`` (functions, versions, aliases, concurrency, URL configs), ``invoke`` (the
Invoke route and instances' self-invocations), ``async_config`` (event-invoke configs and
dead letters), ``schedules`` and ``status``; ``shapes`` checks requests and renders
answers in AWS's shapes. Errors raised below become responses here, in one place
(``error_response``). Imports ``invoke`` and ``state`` below it, never ``urls``: the
listeners it opens and closes are passed in.
"""

from strum.platform.api import async_config, functions, invoke, schedules, shapes, status
from strum.platform.api._http import (
    answering_errors,
    error_response,
    function_target,
    json_response,
    read_body,
    token_middleware,
)
from strum.platform.api.functions import FunctionRoutes, Instances, UrlListeners
from strum.platform.api.invoke import self_invoke_route
from strum.platform.api.status import StatusRoutes

__all__ = [
    "FunctionRoutes",
    "Instances",
    "StatusRoutes",
    "UrlListeners",
    "answering_errors",
    "async_config",
    "error_response",
    "function_target",
    "functions",
    "invoke",
    "json_response",
    "read_body",
    "schedules",
    "self_invoke_route",
    "shapes",
    "status",
    "token_middleware",
]
