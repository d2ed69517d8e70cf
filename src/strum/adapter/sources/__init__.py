"""Lambda HTTP event sources: one module per gateway, one small protocol, one registry.

Each module knows one event shape: ``infer`` recognises it from keys only that shape has
(never from ``version`` alone), ``parse`` turns it into an ``HttpRequest`` and ``respond``
builds the response dict that gateway accepts. ``SOURCES`` is the order they are tried in:
the more specific shapes come before the ones they resemble (Function URLs before HTTP API).
"""

from __future__ import annotations

from strum.adapter._request import HttpRequest
from strum.adapter.sources import alb, api_gateway_v1, api_gateway_v2, function_url, lattice
from strum.errors import UnsupportedEvent

__all__ = ["SOURCES", "describe_event", "find_source"]

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    class EventSource(Protocol):
        """What every event-source module provides."""

        NAME: str

        def infer(self, event: Mapping[str, Any], /) -> bool: ...

        def parse(self, event: dict[str, Any], base_path: str, /) -> HttpRequest: ...

        def respond(
            self,
            status: int,
            reason: str,
            headers: list[tuple[str, str]],
            body: str,
            is_base64: bool,
            request: HttpRequest,
            /,
        ) -> dict[str, Any]: ...


SOURCES: tuple[EventSource, ...] = (
    lattice.V2,
    function_url,
    api_gateway_v2,
    alb,
    api_gateway_v1,
    lattice.V1,
)


def find_source(event: object) -> EventSource:
    """The source that produced ``event``, or ``UnsupportedEvent`` saying what it looks like."""
    if isinstance(event, dict):
        for source in SOURCES:
            if source.infer(event):
                return source
    raise UnsupportedEvent(
        f"the HTTP handler received {describe_event(event)}, which is not an HTTP event. "
        "strum's HTTP adapter serves API Gateway (REST and HTTP APIs), Function URLs, ALB and "
        "VPC Lattice events; route other events to a plain function (in a strum project the "
        "entry router does this from [tool.strum.events] and [tool.strum.schedules])."
    )


def describe_event(event: object) -> str:
    """A short guess at where a non-HTTP event came from, for error messages."""
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__} instead of an object"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        record = records[0]
        origin = record.get("eventSource") or record.get("EventSource")
        names = {
            "aws:sqs": "an SQS message batch",
            "aws:sns": "an SNS notification",
            "aws:s3": "an S3 event notification",
            "aws:dynamodb": "a DynamoDB stream batch",
            "aws:kinesis": "a Kinesis stream batch",
        }
        if origin in names:
            return f"{names[origin]} ({origin})"
        if "cf" in record:
            return "a CloudFront (Lambda@Edge) event"
        return f"a 'Records' event from {origin or 'an unknown source'}"
    if "detail-type" in event and "source" in event:
        if event.get("detail-type") == "Scheduled Event":
            return "an EventBridge scheduled event"
        return f"an EventBridge event (source {event.get('source')!r})"
    if "awslogs" in event:
        return "a CloudWatch Logs subscription event"
    keys = ", ".join(sorted(map(str, event))[:8]) or "no keys"
    return f"an event with keys [{keys}]"
