"""Stable stage URLs: ``http://<stage>.<project>.localhost:<port>/`` on the platform's own port.

A stage's listener port is its own and can change (another process took it while the
platform was down); the platform's port does not. A request for ``dev.shop.localhost:8700``
(``strum.platform.hostnames``) reaches the platform with that ``Host``, and the middleware
here hands it to the function URL of ``shop-dev:dev`` - the stage ``dev`` of project
``shop`` - exactly as its own listener would. Any other ``Host`` goes on to the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from strum.platform.api import error_response
from strum.platform.errors import ResourceNotFound
from strum.platform.hostnames import stage_from_host

__all__ = ["host_routing"]

# (function name, qualifier) -> the request handler of that function URL, or None
FindUrl = Callable[[str, str], Callable[[web.Request], Awaitable[web.StreamResponse]] | None]


def host_routing(find: FindUrl) -> web.middleware:  # type: ignore[valid-type]
    """The middleware sending ``<stage>.<project>.localhost`` requests to that stage's URL."""

    @web.middleware
    async def route(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        named = stage_from_host(request.host)
        if named is None:
            return await handler(request)
        stage, project = named
        serve = find(f"{project}-{stage}", stage)
        if serve is None:
            message = (
                f"no function URL for stage {stage} of project {project} on this platform: "
                f"`strum deploy {stage}` in the project creates it"
            )
            return error_response(ResourceNotFound(message), body={"Message": message})
        return await serve(request)

    return route
