"""Durable executions' routes (API version 2025-12-01): the SDK's CheckpointDurableExecution
and GetDurableExecutionState, and Get / GetHistory / ListByFunction / Stop and the
SendDurableExecutionCallback* operations, in the shapes of botocore's model.

The execution ARN travels in the path percent-encoded (its slashes as ``%2F``); the routes
match it as one segment. What an execution does is ``invoke.DurableExecutions``'; this
module renders it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.errors import InvalidParameterValue
from strum.platform.invoke import DurableExecutions
from strum.platform.state import ExecutionRow, Store

__all__ = ["BY_FUNCTION", "CALLBACKS", "EXECUTION", "add_routes"]

EXECUTION = "/2025-12-01/durable-executions/{arn}"
CALLBACKS = "/2025-12-01/durable-execution-callbacks/{callback}"
BY_FUNCTION = "/2025-12-01/functions/{name}/durable-executions"
_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED")


def add_routes(app: web.Application, store: Store, durable: DurableExecutions) -> None:
    """Register the durable-execution routes on ``app``."""

    async def checkpoint(request: web.Request) -> web.StreamResponse:
        body = await read_body(request)
        changes = body.get("Updates") or []
        if not isinstance(changes, list):
            raise InvalidParameterValue("Updates must be a list of OperationUpdate")
        return json_response(
            durable.checkpoint(request.match_info["arn"], body["CheckpointToken"], changes)
        )

    async def state(request: web.Request) -> web.StreamResponse:
        query = request.query
        max_items = int(query["MaxItems"]) if query.get("MaxItems", "").isdigit() else None
        return json_response(
            durable.state(
                request.match_info["arn"], query["CheckpointToken"], query.get("Marker"), max_items
            )
        )

    async def get(request: web.Request) -> web.StreamResponse:
        row = durable.execution(request.match_info["arn"])
        return json_response(_execution(row, store, _flag(request, "IncludeExecutionData")))

    async def history(request: web.Request) -> web.StreamResponse:
        arn = request.match_info["arn"]
        durable.execution(arn)
        include = _flag(request, "IncludeExecutionData")
        events = [_event(made, include) for made in durable.db.events(arn)]
        if _flag(request, "ReverseOrder"):
            events.reverse()
        items, marker = _page(events, request)
        answer: dict[str, Any] = {"Events": items}
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def stop(request: web.Request) -> web.StreamResponse:
        body = await read_body(request)
        stamp = durable.stop_execution(request.match_info["arn"], body.get("Error"))
        return json_response({"StopTimestamp": stamp})

    async def by_function(request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        store.function(name)
        query = request.query
        statuses = set(query.getall("Statuses", [])) or set(_STATUSES)
        own = store.arn(name) + ":"  # this account's function of that name
        rows = [
            row
            for row in durable.db.executions(name)
            if row.status in statuses
            and row.function_arn.startswith(own)
            and (qualifier is None or row.version == qualifier)
            and query.get("DurableExecutionName") in (None, row.name)
            and _after(row.started, query.get("StartedAfter"))
            and not _after(row.started, query.get("StartedBefore"), inclusive=True)
        ]
        if not _flag(request, "ReverseOrder"):
            rows.reverse()  # newest first, as AWS lists them
        items, marker = _page([_summary(row) for row in rows], request)
        answer: dict[str, Any] = {"DurableExecutions": items}
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def succeed(request: web.Request) -> web.StreamResponse:
        result = (await request.read()).decode("utf-8", "replace")
        durable.complete_callback(request.match_info["callback"], "SUCCEEDED", result=result)
        return json_response({})

    async def fail(request: web.Request) -> web.StreamResponse:
        body = await read_body(request)
        error = body.get("Error") if isinstance(body.get("Error"), dict) else body
        durable.complete_callback(request.match_info["callback"], "FAILED", error=error or {})
        return json_response({})

    async def heartbeat(request: web.Request) -> web.StreamResponse:
        durable.complete_callback(request.match_info["callback"], "HEARTBEAT")
        return json_response({})

    routes = (
        ("POST", EXECUTION + "/checkpoint", checkpoint),
        ("GET", EXECUTION + "/state", state),
        ("GET", EXECUTION + "/history", history),
        ("POST", EXECUTION + "/stop", stop),
        ("GET", EXECUTION, get),
        ("GET", BY_FUNCTION, by_function),
        ("POST", CALLBACKS + "/succeed", succeed),
        ("POST", CALLBACKS + "/fail", fail),
        ("POST", CALLBACKS + "/heartbeat", heartbeat),
    )
    for method, path, handler in routes:
        app.router.add_route(method, path, answering_errors(handler))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def _after(started: float, bound: str | None, *, inclusive: bool = False) -> bool:
    """Whether ``started`` is after ``bound`` (epoch seconds or ISO 8601; None: yes)."""
    if bound is None:
        return not inclusive
    try:
        limit = float(bound)
    except ValueError:
        from datetime import datetime

        limit = datetime.fromisoformat(bound.replace("Z", "+00:00")).timestamp()
    return started >= limit if inclusive else started > limit


def _page(items: list[Any], request: web.Request) -> tuple[list[Any], str | None]:
    marker, size = request.query.get("Marker"), request.query.get("MaxItems")
    start = int(marker) if marker and marker.isdigit() else 0
    count = int(size) if size and size.isdigit() and int(size) > 0 else 1000
    end = start + count
    return items[start:end], (str(end) if end < len(items) else None)


def _summary(row: ExecutionRow) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "DurableExecutionArn": row.arn,
        "DurableExecutionName": row.name,
        "FunctionArn": row.function_arn,
        "Status": row.status,
        "StartTimestamp": row.started,
    }
    if row.ended is not None:
        summary["EndTimestamp"] = row.ended
    return summary


def _execution(row: ExecutionRow, store: Store, include: bool) -> dict[str, Any]:
    answer = _summary(row)
    answer.update(
        Version=row.version,
        DurableConfig={
            "ExecutionTimeout": row.timeout_s,
            "RetentionPeriodInDays": row.retention_days,
        },
        ExecutionDataIncluded=include,
    )
    if row.status == "RUNNING":
        answer["ExpectedExecutionTimeoutTimestamp"] = row.started + row.timeout_s
    if include:
        answer["InputPayload"] = row.input
        if row.result is not None:
            answer["Result"] = row.result
    if row.error is not None:
        answer["Error"] = row.error
    return answer


def _event(made: dict[str, Any], include: bool) -> dict[str, Any]:
    """A history event; without ``IncludeExecutionData`` its payloads are left out."""
    if include:
        return made
    trimmed = dict(made)
    for key, details in made.items():
        if key.endswith("Details") and isinstance(details, dict):
            trimmed[key] = {
                name: value for name, value in details.items() if name not in ("Input", "Result")
            }
    return trimmed
