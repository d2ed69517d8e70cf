"""Lambda Function URLs: the payload 2.0 shape on a ``*.lambda-url.*`` domain.

The request and response formats are HTTP API's, with two differences that matter:
``rawPath`` keeps its percent-encoding, and there is never a stage prefix. strum's own
platform serves Function URLs on ``lambda-url`` domains too, so both look the same here.
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest
from strum.adapter.sources import api_gateway_v2

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

NAME = "Lambda Function URL"

respond = api_gateway_v2.respond


def infer(event: Mapping[str, Any]) -> bool:
    """A payload 2.0 event whose domain is a Function URL domain."""
    return api_gateway_v2.is_payload_v2(event) and api_gateway_v2.is_function_url(event)


def parse(event: dict[str, Any], base_path: str) -> HttpRequest:
    """Build the request; unlike HTTP APIs, the path arrives percent-encoded."""
    return api_gateway_v2.parse_v2(event, base_path, path_is_encoded=True)
