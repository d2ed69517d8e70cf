"""How asynchronous invocations are retried, and what their outcome leaves behind: AWS's
retry policy and delays, and the invocation record a destination receives. Pure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from strum.events import iso_millis
from strum.platform.invoke.queue_db import QueuedEvent
from strum.platform.spec import InvokeResult

__all__ = [
    "RETRY_DELAYS_S",
    "THROTTLE_BACKOFF_MAX_S",
    "THROTTLE_BACKOFF_START_S",
    "RetryPolicy",
    "error_type_of",
    "invocation_record",
    "json_or_text",
]

# AWS's delays before the first and second retry after a function error.
RETRY_DELAYS_S = (60.0, 120.0)
THROTTLE_BACKOFF_START_S = 1.0
THROTTLE_BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """How one function's asynchronous invocations are retried (AWS's defaults)."""

    max_retries: int = 2  # 0-2
    max_event_age_s: float = 6 * 3600.0  # 60 s - 6 h
    on_success: str | None = None  # a function ARN
    on_failure: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> RetryPolicy:
        """The policy an event-invoke config (AWS's shape) describes; defaults for None."""
        if not config:
            return cls()
        destinations = config.get("DestinationConfig") or {}
        return cls(
            max_retries=int(config.get("MaximumRetryAttempts", 2)),
            max_event_age_s=float(config.get("MaximumEventAgeInSeconds", 6 * 3600)),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination"),
            on_failure=(destinations.get("OnFailure") or {}).get("Destination"),
        )


def invocation_record(
    event: QueuedEvent,
    arn: str,
    condition: str,
    attempts: int,
    result: InvokeResult | None,
    error: str | None = None,
) -> bytes:
    """AWS's invocation record for a destination (version 1.0); ``arn`` is the function's."""
    document: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_millis(time.time()),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": json_or_text(event.payload),
    }
    if result is not None:
        response: dict[str, Any] = {
            "statusCode": 200,
            "executedVersion": result.executed_version,
        }
        if result.function_error:
            response["functionError"] = result.function_error
        document["responseContext"] = response
        document["responsePayload"] = json_or_text(result.payload)
    elif error is not None:
        document["responseContext"] = {"statusCode": 0, "functionError": condition}
        document["responsePayload"] = {"errorMessage": error, "errorType": condition}
    return json.dumps(document).encode()


def json_or_text(payload: bytes) -> Any:
    """A payload as JSON when it parses, else as text."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


def error_type_of(document: str) -> str:
    """The ``errorType`` of a function's error document ("error" when it has none)."""
    try:
        parsed = json.loads(document)
    except ValueError:
        return "error"
    return str(parsed.get("errorType", "error")) if isinstance(parsed, dict) else "error"
