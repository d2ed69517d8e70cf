"""What each route of the platform's API is: its IAM action, how its resource is named,
whether it is audited (``OPERATIONS``, the one table the access middleware reads; a test
checks that every route the API registers is in it, and a route missing from it is for
callers allowed everything: fail closed).

Actions and resources are the ones AWS uses ("Actions, resources, and condition keys for
AWS Lambda"); strum's own routes have actions in a ``strum:`` namespace of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ANY",
    "BODY_FUNCTION",
    "CALLBACK",
    "EXECUTION",
    "FUNCTION",
    "LAYER",
    "LAYER_BY_ARN",
    "LAYER_VERSION",
    "LOG_GROUP",
    "OPERATIONS",
    "PATH_FUNCTION",
    "PATH_LOG_GROUP",
    "QUERY_FUNCTION",
    "TAGGED",
    "UNLISTED",
    "UNQUALIFIED",
    "Operation",
    "operation_for",
]

# How an operation names its resource.
FUNCTION = "function"  # the {name} in the path, qualified by ?Qualifier= or the name itself
UNQUALIFIED = "unqualified"  # the {name} in the path, without a qualifier
BODY_FUNCTION = "body function"  # CreateFunction: the FunctionName in the body
PATH_FUNCTION = "path function"  # strum's routes: the {function} in the path
QUERY_FUNCTION = "query function"  # strum's routes: ?function=, or every function
LOG_GROUP = "log group"  # the function's log group, from ?function=
PATH_LOG_GROUP = "path log group"  # the dashboard's: the log group of the {function} in the path
TAGGED = "tagged"  # the tagging API: the resource's ARN is the path's {arn}
EXECUTION = "execution"  # a durable execution: its ARN is the path's {arn}
CALLBACK = "callback"  # a durable execution's callback: the execution its {callback} names
LAYER = "layer"  # the {layer} in the path: the layer's ARN
LAYER_VERSION = "layer version"  # the {layer} and {version} in the path
LAYER_BY_ARN = "layer by ARN"  # GetLayerVersionByArn: the ?Arn= of the query
ANY = "any"  # "*": the operation is not about one resource


@dataclass(frozen=True)
class Operation:
    """An API operation: its IAM action, how its resource is named, whether it is audited."""

    action: str
    resource: str = FUNCTION
    # The data plane (Invoke) is not audited when allowed: it is the hot path, and its
    # record is the function's own log.
    audited: bool = True
    # Another operation at the same route when the query has this key, as in the model's
    # requestUri: ListProvisionedConcurrencyConfigs (``?List=ALL``) shares its Get's path,
    # GetLayerVersionByArn (``?find=LayerVersion``) ListLayers'.
    by_query: tuple[str, Operation] | None = None
    # The body streams to the route, held there to its signed SHA-256 (``api.uploads``).
    streamed: bool = False
    # A dashboard page: the caller is the session cookie's, not a signature's.
    by_cookie: bool = False


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
        by_query=("List", Operation("lambda:ListProvisionedConcurrencyConfigs", UNQUALIFIED)),
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
    # Layers ("Actions, resources, and condition keys for AWS Lambda": ListLayers on "*",
    # the others on the layer's or the layer version's ARN).
    ("GET", "/2018-10-31/layers"): Operation(
        "lambda:ListLayers",
        ANY,
        by_query=("find", Operation("lambda:GetLayerVersion", LAYER_BY_ARN)),
    ),
    ("POST", "/2018-10-31/layers/{layer}/versions"): Operation("lambda:PublishLayerVersion", LAYER),
    ("GET", "/2018-10-31/layers/{layer}/versions"): Operation("lambda:ListLayerVersions", LAYER),
    ("GET", "/2018-10-31/layers/{layer}/versions/{version}"): Operation(
        "lambda:GetLayerVersion", LAYER_VERSION
    ),
    ("DELETE", "/2018-10-31/layers/{layer}/versions/{version}"): Operation(
        "lambda:DeleteLayerVersion", LAYER_VERSION
    ),
    ("POST", "/2018-10-31/layers/{layer}/versions/{version}/policy"): Operation(
        "lambda:AddLayerVersionPermission", LAYER_VERSION
    ),
    ("GET", "/2018-10-31/layers/{layer}/versions/{version}/policy"): Operation(
        "lambda:GetLayerVersionPolicy", LAYER_VERSION
    ),
    ("DELETE", "/2018-10-31/layers/{layer}/versions/{version}/policy/{sid}"): Operation(
        "lambda:RemoveLayerVersionPermission", LAYER_VERSION
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
    # Staging a package too big to send inline, as S3 would hold it for Lambda.
    ("PUT", "/strum/v1/uploads/{sha}"): Operation("strum:UploadPackage", ANY, streamed=True),
    # The dashboard: each page needs what the API call showing the same thing needs.
    ("GET", "/strum/"): Operation("lambda:ListFunctions", ANY, audited=False, by_cookie=True),
    ("GET", "/strum/functions/{function}"): Operation(
        "lambda:GetFunction", PATH_FUNCTION, audited=False, by_cookie=True
    ),
    ("GET", "/strum/functions/{function}/metrics"): Operation(
        "strum:GetInvocationMetrics", PATH_FUNCTION, audited=False, by_cookie=True
    ),
    ("GET", "/strum/functions/{function}/logs"): Operation(
        "logs:FilterLogEvents", PATH_LOG_GROUP, audited=False, by_cookie=True
    ),
    ("GET", "/strum/functions/{function}/logs/live"): Operation(
        "logs:FilterLogEvents", PATH_LOG_GROUP, audited=False, by_cookie=True
    ),
    ("GET", "/strum/instances"): Operation(
        "strum:GetPlatformStatus", ANY, audited=False, by_cookie=True
    ),
    ("GET", "/strum/async"): Operation(
        "strum:ListDeadLetters", QUERY_FUNCTION, audited=False, by_cookie=True
    ),
    ("POST", "/strum/functions/{function}/dead-letters/redrive"): Operation(
        "strum:RedriveDeadLetters", PATH_FUNCTION, by_cookie=True
    ),
    ("POST", "/strum/functions/{function}/dead-letters/discard"): Operation(
        "strum:DiscardDeadLetters", PATH_FUNCTION, by_cookie=True
    ),
    ("GET", "/strum/static/{file}"): Operation(
        "strum:ViewDashboard", ANY, audited=False, by_cookie=True
    ),
    ("POST", "/strum/sign-out"): Operation("strum:ViewDashboard", ANY, by_cookie=True),
}


UNLISTED = Operation("strum:UnlistedRoute", ANY)


def operation_for(method: str, route: str, query: Mapping[str, str]) -> Operation | None:
    """The operation a request to ``route`` with ``query`` is (None: not in the table)."""
    operation = OPERATIONS.get((method, route))
    if operation is not None and operation.by_query is not None:
        key, other = operation.by_query
        if key in query:
            return other
    return operation
