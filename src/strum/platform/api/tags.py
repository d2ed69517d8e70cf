"""Tags on functions: ``TagResource``, ``UntagResource`` and ``ListTags`` at AWS's paths.

The resource is named by its full ARN in the path (``/2017-03-31/tags/{ARN}``); the access
middleware has refused an ARN of another region or account. As on AWS, only a function
itself carries tags: a version's or an alias's ARN is refused.
"""

from __future__ import annotations

from aiohttp import web

from strum.platform import arns
from strum.platform.api._http import answering_errors, json_response, read_body
from strum.platform.errors import InvalidParameterValue, ResourceNotFound
from strum.platform.state import Store, Tags

__all__ = ["add_routes", "tagged_function"]

TAGS_PATH = "/2017-03-31/tags/{arn}"


def tagged_function(arn: str) -> str:
    """The function a taggable ARN names; refuses versions, aliases and other kinds."""
    parsed = arns.parse(arn)
    parts = parsed.resource.split(":") if parsed is not None else []
    if not parts or parts[0] != "function" or len(parts) < 2:
        raise ResourceNotFound(f"The resource you requested does not exist: {arn}")
    if len(parts) > 2:
        # AWS's words ("Lambda does not support adding tags to function aliases or versions").
        raise InvalidParameterValue(
            "Tags on function aliases and versions are not supported. Please specify a "
            "function ARN."
        )
    return parts[1]


def add_routes(app: web.Application, store: Store, tags: Tags) -> None:
    """Register the tagging routes on ``app``."""

    async def tag_resource(request: web.Request) -> web.StreamResponse:
        name = tagged_function(request.match_info["arn"])
        body = await read_body(request)
        tags.tag(name, body.get("Tags") or {})
        return web.Response(status=204)

    async def untag_resource(request: web.Request) -> web.StreamResponse:
        name = tagged_function(request.match_info["arn"])
        tags.untag(name, request.query.getall("tagKeys", []))
        return web.Response(status=204)

    async def list_tags(request: web.Request) -> web.StreamResponse:
        name = tagged_function(request.match_info["arn"])
        store.function(name)
        return json_response({"Tags": tags.of(name)})

    app.router.add_post(TAGS_PATH, answering_errors(tag_resource))
    app.router.add_delete(TAGS_PATH, answering_errors(untag_resource))
    app.router.add_get(TAGS_PATH, answering_errors(list_tags))
