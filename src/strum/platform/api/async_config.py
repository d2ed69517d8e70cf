"""Routes for asynchronous invocation: AWS's event-invoke config API and strum's dead letters.

- ``Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s)`` at AWS's paths, so boto3 works
  unchanged. A config belongs to a function at a qualifier (``$LATEST`` when unqualified, a
  version or an alias) and applies to the events invoked at exactly that qualifier, as on
  AWS. Destinations must be Lambda functions on this platform: SQS, SNS, S3 and EventBridge
  destinations exist only on AWS, and accepting one here would silently drop records.
- ``/strum/v1/events/dead``: list (GET), redrive (POST ``.../redrive``) or discard (DELETE)
  the events that exhausted their retries, optionally narrowed by ``function`` and
  ``request_id`` (repeatable); the CLI's ``strum events`` commands call these.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from strum.platform import arns
from strum.platform.api import shapes
from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.errors import InvalidParameterValue, ResourceNotFound
from strum.platform.invoke import AsyncQueue
from strum.platform.state import LATEST, Store, parse_function_name

__all__ = ["add_routes", "event_invoke_settings"]

MAX_RETRIES = 2
MIN_EVENT_AGE_S, MAX_EVENT_AGE_S = 60, 6 * 3600


def add_routes(app: web.Application, store: Store, queue: AsyncQueue) -> None:
    """Register the event-invoke config API and the dead-letter routes on ``app``."""
    routes = AsyncRoutes(store, queue)
    config = "/2019-09-25/functions/{name}/event-invoke-config"
    for method, path, handler in (
        ("PUT", config, routes.put_config),
        ("POST", config, routes.update_config),
        ("GET", config, routes.get_config),
        ("DELETE", config, routes.delete_config),
        ("GET", config + "/list", routes.list_configs),
        ("GET", "/strum/v1/events/dead", routes.dead_letters),
        ("POST", "/strum/v1/events/dead/redrive", routes.redrive),
        ("DELETE", "/strum/v1/events/dead", routes.discard),
    ):
        app.router.add_route(method, path, answering_errors(handler))


def event_invoke_settings(
    body: dict[str, Any], function_name: str, scope: arns.Scope
) -> dict[str, Any]:
    """The settings of a Put/Update request, checked as AWS checks them."""
    settings: dict[str, Any] = {}
    if body.get("MaximumRetryAttempts") is not None:
        settings["MaximumRetryAttempts"] = shapes.bounded_int(
            body["MaximumRetryAttempts"], "maximumRetryAttempts", 0, MAX_RETRIES
        )
    if body.get("MaximumEventAgeInSeconds") is not None:
        settings["MaximumEventAgeInSeconds"] = shapes.bounded_int(
            body["MaximumEventAgeInSeconds"],
            "maximumEventAgeInSeconds",
            MIN_EVENT_AGE_S,
            MAX_EVENT_AGE_S,
        )
    destinations = body.get("DestinationConfig")
    if destinations is not None:
        if not isinstance(destinations, dict):
            raise InvalidParameterValue("DestinationConfig must be an object")
        checked: dict[str, dict[str, str]] = {}
        for outcome in ("OnSuccess", "OnFailure"):
            target = (destinations.get(outcome) or {}).get("Destination")
            if target:
                checked[outcome] = {"Destination": _destination(target, function_name, scope)}
        settings["DestinationConfig"] = checked
    return settings


def _destination(arn: object, function_name: str, scope: arns.Scope) -> str:
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidParameterValue(f"A destination must be an ARN, not {arn!r}")
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    if service != "lambda" or ":function:" not in arn:
        raise InvalidParameterValue(
            f"The strum platform delivers asynchronous invocation records to Lambda functions "
            f"only; {service or 'this'} destinations ({arn}) work on the AWS target. Use a "
            f"function ARN such as {scope.function('on-failure')}"
        )
    parsed = arns.parse(arn)
    if parsed is not None and (parsed.account != scope.account or parsed.region != scope.region):
        # AWS checks that the execution role may reach the destination; no role of this
        # account reaches another account's or region's functions on this platform.
        raise InvalidParameterValue(
            f"The function's execution role does not have permissions to call InvokeFunction "
            f"on {arn}"
        )
    try:
        name, _ = parse_function_name(arn)
    except ResourceNotFound:
        raise InvalidParameterValue(f"{arn} is not a valid function ARN") from None
    if name == function_name:
        raise InvalidParameterValue(
            f"A function cannot be its own destination ({arn}): its records would invoke it "
            "again without end"
        )
    return arn


def _qualified(request: web.Request, store: Store) -> tuple[str, str]:
    """The function and qualifier a request addresses; both must exist."""
    name, qualifier = function_target(request)
    qualifier = qualifier or LATEST
    if qualifier == LATEST or qualifier.isdigit():
        store.function(name, qualifier)
    else:
        store.function(name)
        store.alias(name, qualifier)
    return name, qualifier


def render_config(
    store: Store, name: str, qualifier: str, config: dict[str, Any]
) -> dict[str, Any]:
    """An event-invoke config as AWS answers with it."""
    destinations = config.get("DestinationConfig") or {}
    return {
        "LastModified": config["LastModified"],
        "FunctionArn": store.arn(name, qualifier),
        "MaximumRetryAttempts": config.get("MaximumRetryAttempts", MAX_RETRIES),
        "MaximumEventAgeInSeconds": config.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE_S),
        "DestinationConfig": {
            "OnSuccess": destinations.get("OnSuccess", {}),
            "OnFailure": destinations.get("OnFailure", {}),
        },
    }


class AsyncRoutes:
    """The handlers; one method per operation."""

    def __init__(self, store: Store, queue: AsyncQueue) -> None:
        self.store = store
        self.queue = queue

    async def put_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = _qualified(request, self.store)
        settings = event_invoke_settings(await read_body(request), name, self.store.scope())
        config = self.store.put_event_invoke_config(name, qualifier, settings)
        return json_response(render_config(self.store, name, qualifier, config))

    async def update_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = _qualified(request, self.store)
        settings = event_invoke_settings(await read_body(request), name, self.store.scope())
        config = self.store.put_event_invoke_config(name, qualifier, settings, merge=True)
        return json_response(render_config(self.store, name, qualifier, config))

    async def get_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = _qualified(request, self.store)
        config = self.store.event_invoke_config(name, qualifier)
        if config is None:
            raise ResourceNotFound(
                f"The function {self.store.arn(name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return json_response(render_config(self.store, name, qualifier, config))

    async def delete_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = _qualified(request, self.store)
        if not self.store.delete_event_invoke_config(name, qualifier):
            raise ResourceNotFound(
                f"The function {self.store.arn(name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return web.Response(status=204)

    async def list_configs(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        self.store.function(name)
        configs = self.store.list_event_invoke_configs(name)
        items, marker = shapes.page(
            configs, request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "FunctionEventInvokeConfigs": [
                render_config(self.store, name, qualifier, config) for qualifier, config in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    # -- strum's dead letters -----------------------------------------------------------

    async def dead_letters(self, request: web.Request) -> web.StreamResponse:
        name, request_ids = _letter_filter(request)
        letters = self.queue.dead_letters(name, request_ids)
        for letter in letters:
            letter["payload"] = base64.b64encode(letter["payload"]).decode()
        return json_response({"dead_letters": letters})

    async def redrive(self, request: web.Request) -> web.StreamResponse:
        name, request_ids = _letter_filter(request)
        return json_response({"redriven": self.queue.redrive(name, request_ids)})

    async def discard(self, request: web.Request) -> web.StreamResponse:
        name, request_ids = _letter_filter(request)
        return json_response({"discarded": self.queue.discard(name, request_ids)})


def _letter_filter(request: web.Request) -> tuple[str | None, list[str] | None]:
    request_ids = request.query.getall("request_id", [])
    return request.query.get("function"), (list(request_ids) or None)
