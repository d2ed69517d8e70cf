"""What every route shares: the one error response, JSON in and out, the request's target.

``error_response`` is the only code that writes AWS's error JSON; ``answering_errors``
wraps a handler so that a ``PlatformError`` raised anywhere below becomes that response,
with a request id either way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from strum.platform.api import shapes
from strum.platform.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    PlatformError,
)
from strum.platform.state import parse_function_name

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(
    error: PlatformError,
    request_id: str | None = None,
    *,
    body: Mapping[str, object] | None = None,
) -> web.Response:
    """``error`` in AWS's wire shape: its status, ``x-amzn-ErrorType`` and JSON body.

    ``body`` replaces the API's ``{"Type", "message"}`` document where AWS answers with
    another (a Function URL's front end says ``{"Message": ...}``).
    """
    headers = {"x-amzn-ErrorType": error.error_type}
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return web.Response(
        status=error.status,
        body=json.dumps(error.body() if body is None else dict(body)).encode(),
        content_type="application/json",
        headers=headers,
    )


def answering_errors(handler: Handler) -> Handler:
    """``handler`` with a fresh ``x-amzn-RequestId`` on every answer, errors included."""

    async def answer(request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        try:
            response = await handler(request)
        except PlatformError as error:
            return error_response(error, request_id)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    return answer


def json_response(data: object, status: int = 200) -> web.Response:
    """``data`` as a JSON body (``Content-Type: application/json``)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


# A request's JSON body, parsed once: the access middleware reads CreateFunction's
# FunctionName from it, and a package travels in that body (tens of MB of base64).
PARSED_BODY = web.RequestKey("strum_parsed_body", dict[str, Any])


async def read_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body ({} when empty); ``InvalidRequestContent`` otherwise."""
    if PARSED_BODY in request:
        return request[PARSED_BODY]
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidRequestContent("Could not parse request body into json") from None
    if not isinstance(body, dict):
        raise InvalidRequestContent("The request body must be a JSON object")
    request[PARSED_BODY] = body
    return body


def function_target(request: web.Request, *, name_only: bool = False) -> tuple[str, str | None]:
    """The function name and qualifier a request addresses (path name + ``Qualifier``)."""
    reference = request.match_info["name"]
    name, qualifier = qualified_target(reference, request.query.get("Qualifier"))
    if name_only and qualifier is not None:
        raise InvalidParameterValue(
            f"This operation takes an unqualified function name, not {reference}"
        )
    return name, qualifier


def qualified_target(reference: str, given: str | None) -> tuple[str, str | None]:
    """A function name (a name, ``name:qualifier``, a partial or full ARN) and a
    ``Qualifier`` parameter, as the name and the qualifier they agree on."""
    if ":" not in reference:
        shapes.check_function_name(reference)
    name, derived = parse_function_name(reference)
    if given is not None and derived is not None and given != derived:
        raise InvalidParameterValue(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return name, given if given is not None else derived
