"""Account-wide and per-function settings: ``GetAccountSettings``, ``Get/Put
FunctionRecursionConfig`` and ``Get/PutRuntimeManagementConfig``, at AWS's paths.

``GetAccountSettings`` answers the platform's real limits - its concurrency, AWS's package
size limits (which the code store enforces) and AWS's 75 GB of code storage - and its real
usage: the bytes the code store holds and the number of functions.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.errors import InvalidParameterValue
from strum.platform.settings import Settings
from strum.platform.state import LATEST, FunctionSettings, Store
from strum.platform.state.codestore import MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES
from strum.platform.state.function_settings import RECURSION, RUNTIME_MANAGEMENT

__all__ = ["TOTAL_CODE_STORAGE", "add_routes"]

# AWS's default code storage quota per region: 75 GB ("Lambda quotas").
TOTAL_CODE_STORAGE = 75 * 1024**3


def add_routes(
    app: web.Application, store: Store, settings: Settings, function_settings: FunctionSettings
) -> None:
    """Register the account and function-settings routes on ``app``."""

    async def account_settings(request: web.Request) -> web.StreamResponse:
        functions = store.list_functions()
        reserved = sum(store.concurrency(record.name) or 0 for record in functions)
        return json_response(
            {
                "AccountLimit": {
                    "TotalCodeSize": TOTAL_CODE_STORAGE,
                    "CodeSizeUnzipped": MAX_UNZIPPED_BYTES,
                    "CodeSizeZipped": MAX_ZIPPED_BYTES,
                    "ConcurrentExecutions": settings.max_concurrency,
                    "UnreservedConcurrentExecutions": settings.max_concurrency - reserved,
                },
                "AccountUsage": {
                    "TotalCodeSize": store.code.total_size(),
                    "FunctionCount": len(functions),
                },
            }
        )

    async def get_recursion(request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        store.function(name)
        found = function_settings.get(name, RECURSION) or {"RecursiveLoop": "Terminate"}
        return json_response(found)

    async def put_recursion(request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        value = {"RecursiveLoop": (await read_body(request))["RecursiveLoop"]}
        function_settings.put(name, RECURSION, value)
        return json_response(value)

    def runtime_target(request: web.Request) -> tuple[str, str]:
        name, qualifier = function_target(request)
        store.function(name, qualifier)
        return name, qualifier or LATEST

    def runtime_answer(name: str, qualifier: str, value: dict[str, Any]) -> dict[str, Any]:
        answer = {
            "UpdateRuntimeOn": value["UpdateRuntimeOn"],
            "FunctionArn": store.arn(name, None if qualifier == LATEST else qualifier),
        }
        if value["UpdateRuntimeOn"] == "Manual":
            answer["RuntimeVersionArn"] = value["RuntimeVersionArn"]
        return answer

    async def get_runtime(request: web.Request) -> web.StreamResponse:
        name, qualifier = runtime_target(request)
        value = function_settings.get(name, RUNTIME_MANAGEMENT, qualifier)
        return json_response(runtime_answer(name, qualifier, value or {"UpdateRuntimeOn": "Auto"}))

    async def put_runtime(request: web.Request) -> web.StreamResponse:
        name, qualifier = runtime_target(request)
        body = await read_body(request)
        mode, version = body["UpdateRuntimeOn"], body.get("RuntimeVersionArn")
        if mode == "Manual" and not version:
            raise InvalidParameterValue(
                "RuntimeVersionArn is required when UpdateRuntimeOn is Manual"
            )
        if mode != "Manual" and version:
            raise InvalidParameterValue(
                f"RuntimeVersionArn can only be set when UpdateRuntimeOn is Manual, not {mode}"
            )
        value = {"UpdateRuntimeOn": mode, "RuntimeVersionArn": version}
        function_settings.put(name, RUNTIME_MANAGEMENT, value, qualifier)
        return json_response(runtime_answer(name, qualifier, value))

    recursion = "/2024-08-31/functions/{name}/recursion-config"
    runtime = "/2021-07-20/functions/{name}/runtime-management-config"
    app.router.add_get("/2016-08-19/account-settings", answering_errors(account_settings))
    app.router.add_get(recursion, answering_errors(get_recursion))
    app.router.add_put(recursion, answering_errors(put_recursion))
    app.router.add_get(runtime, answering_errors(get_runtime))
    app.router.add_put(runtime, answering_errors(put_runtime))
