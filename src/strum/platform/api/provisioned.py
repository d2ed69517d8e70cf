"""Provisioned concurrency's routes: Put/Get/Delete/ListProvisionedConcurrencyConfig(s) at
AWS's ``/2019-09-30/functions/{name}/provisioned-concurrency`` (``?List=ALL`` lists).

The rules a configuration must follow are the state's (``state.provisioned``); turning
configurations into warm instances is the ``Provisioner``'s, told after each change.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from strum.platform.api import shapes
from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.errors import (
    InvalidParameterValue,
    ProvisionedConcurrencyConfigNotFound,
    model_error,
)
from strum.platform.invoke import Provisioner
from strum.platform.state import Store

__all__ = ["PATH", "add_routes"]

PATH = "/2019-09-30/functions/{name}/provisioned-concurrency"


def add_routes(app: web.Application, store: Store, provisioner: Provisioner) -> None:
    """Register the provisioned concurrency routes on ``app``."""
    configs = provisioner.configs

    def target(request: web.Request) -> tuple[str, str]:
        name, qualifier = function_target(request)
        store.function(name)
        if qualifier is None:
            raise InvalidParameterValue(
                "A provisioned concurrency configuration is on a version or an alias: give "
                "Qualifier (a version number or an alias name)"
            )
        return name, qualifier

    async def put(request: web.Request) -> web.StreamResponse:
        name, qualifier = target(request)
        body = await read_body(request)
        requested = body.get("ProvisionedConcurrentExecutions")
        if not isinstance(requested, int) or isinstance(requested, bool):
            raise InvalidParameterValue("ProvisionedConcurrentExecutions must be a whole number")
        if requested < 1:
            raise model_error(
                requested,
                "provisionedConcurrentExecutions",
                "Member must have value greater than or equal to 1",
            )
        stamp = provisioner.put(name, qualifier, requested)
        return json_response(provisioner.status(name, qualifier, requested, stamp), 202)

    async def get(request: web.Request) -> web.StreamResponse:
        if request.query.get("List") == "ALL":
            return await listing(request)
        name, qualifier = target(request)
        found = configs.get(name, qualifier)
        if found is None:
            raise ProvisionedConcurrencyConfigNotFound(
                "No Provisioned Concurrency Config found for this function"
            )
        return json_response(provisioner.status(name, qualifier, *found))

    async def listing(request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        store.function(name)
        items, marker = shapes.page(
            configs.list(name), request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "ProvisionedConcurrencyConfigs": [
                {
                    "FunctionArn": store.arn(name, qualifier),
                    **provisioner.status(name, qualifier, requested, stamp),
                }
                for name, qualifier, requested, stamp in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def delete(request: web.Request) -> web.StreamResponse:
        name, qualifier = target(request)
        configs.delete(name, qualifier)
        provisioner.reconcile()
        return web.Response(status=204)

    app.router.add_route("PUT", PATH, answering_errors(put))
    app.router.add_route("GET", PATH, answering_errors(get))
    app.router.add_route("DELETE", PATH, answering_errors(delete))
