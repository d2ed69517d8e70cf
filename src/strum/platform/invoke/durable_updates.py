"""What one ``OperationUpdate`` of a checkpoint does to an execution's operation: pure.

``apply`` takes the update as CheckpointDurableExecution carries it, the operation as it
stands (None for a new one) and the time, and answers the operation as it is afterwards,
when the scheduler must next act on it (a wait's end, a retry's next attempt, a
callback's timeout), the history events it makes, and whether it ends the execution. The
transitions are the service's (``Operation``'s statuses, "Lambda durable functions" in the
Lambda developer guide): a STEP goes STARTED -> SUCCEEDED / FAILED, or PENDING on RETRY
until its next attempt is due, then READY; a WAIT is STARTED until its end, then
SUCCEEDED; a CALLBACK is STARTED until SendDurableExecutionCallback* or its timeout; a
CONTEXT is STARTED -> SUCCEEDED / FAILED; the EXECUTION operation's SUCCEED / FAIL ends the
execution.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from strum.platform.errors import InvalidParameterValue, PlatformError

__all__ = [
    "DEFAULT_EXECUTION_TIMEOUT",
    "DEFAULT_RETENTION_DAYS",
    "Applied",
    "CallbackTimedOut",
    "apply",
    "callback_outcome",
    "due_transition",
    "durable_config",
    "event",
    "finished_event",
    "function_error",
    "heartbeat",
    "invocation_operation",
    "make_token",
    "public_operation",
    "read_token",
]

# RetentionPeriodInDays defaults to 14 (AWS::Lambda::Function DurableConfig). The API makes
# ExecutionTimeout optional without documenting its default; the platform takes a day.
DEFAULT_RETENTION_DAYS = 14
DEFAULT_EXECUTION_TIMEOUT = 86_400


def durable_config(value: object) -> dict[str, Any]:
    """A request's ``DurableConfig`` (the model has checked its ranges), defaults filled."""
    if not isinstance(value, dict):
        raise InvalidParameterValue(
            'DurableConfig must be an object: {"ExecutionTimeout": seconds, '
            '"RetentionPeriodInDays": days}'
        )
    checked: dict[str, Any] = {
        "ExecutionTimeout": int(value.get("ExecutionTimeout") or DEFAULT_EXECUTION_TIMEOUT),
        "RetentionPeriodInDays": int(value.get("RetentionPeriodInDays") or DEFAULT_RETENTION_DAYS),
    }
    if value.get("KMSKeyArn"):
        checked["KMSKeyArn"] = value["KMSKeyArn"]
    return checked


_ACTIONS = {
    "EXECUTION": {"SUCCEED", "FAIL"},
    "CONTEXT": {"START", "SUCCEED", "FAIL"},
    "STEP": {"START", "SUCCEED", "FAIL", "RETRY"},
    "WAIT": {"START", "CANCEL"},
    "CALLBACK": {"START"},
    "CHAINED_INVOKE": set(),
}
_FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"})


@dataclass
class Applied:
    """An update's outcome (see the module)."""

    operation: dict[str, Any]
    wake_at: float | None = None
    callback_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    # ("SUCCEEDED", result, None) or ("FAILED", None, error) when the update ends it.
    outcome: tuple[str, str | None, dict[str, Any] | None] | None = None


def event(kind: str, operation: dict[str, Any], now: float, **details: Any) -> dict[str, Any]:
    """A history ``Event`` about ``operation`` (``details``: the ``<kind>Details`` member)."""
    made: dict[str, Any] = {"EventType": kind, "Id": operation["Id"], "EventTimestamp": now}
    for key in ("Name", "ParentId", "SubType"):
        if operation.get(key):
            made[key] = operation[key]
    made[f"{kind}Details"] = details
    return made


def _result(payload: str | None) -> dict[str, Any]:
    return {"Payload": payload or "", "Truncated": False}


def _error(error: dict[str, Any] | None) -> dict[str, Any]:
    return {"Payload": error or {}, "Truncated": False}


def apply(update: dict[str, Any], current: dict[str, Any] | None, now: float, arn: str) -> Applied:
    """Apply one update (see the module); ``InvalidParameterValue`` for one the service
    refuses: an action its type does not take, a change to a finished operation, a type
    that does not match the operation's."""
    op_type, action, op_id = update["Type"], update["Action"], update["Id"]
    if action not in _ACTIONS.get(op_type, set()):
        raise InvalidParameterValue(
            f"Invalid action {action} for {op_type} operation {op_id}"
            + (
                ": chained invokes are not supported on strum's platform yet"
                if op_type == "CHAINED_INVOKE"
                else ""
            )
        )
    if current is not None:
        if current["Type"] != op_type:
            raise InvalidParameterValue(
                f"Operation {op_id} is a {current['Type']} operation, not {op_type}"
            )
        if current["Status"] in _FINAL:
            raise InvalidParameterValue(
                f"Cannot update operation {op_id}: it is {current['Status']} already"
            )
    elif action in ("RETRY", "CANCEL"):
        raise InvalidParameterValue(f"Cannot {action} unknown operation {op_id}")
    operation: dict[str, Any] = (
        dict(current)
        if current
        else {
            "Id": op_id,
            "Type": op_type,
            "StartTimestamp": now,
        }
    )
    for key in ("ParentId", "Name", "SubType"):
        if update.get(key) and not operation.get(key):
            operation[key] = update[key]
    handler = _HANDLERS[op_type]
    return handler(operation, update, action, now, arn)


def _finish(operation: dict[str, Any], status: str, now: float) -> None:
    operation["Status"] = status
    operation["EndTimestamp"] = now


def _execution(
    operation: dict[str, Any], update: dict[str, Any], action: str, now: float, arn: str
) -> Applied:
    if action == "SUCCEED":
        _finish(operation, "SUCCEEDED", now)
        return Applied(operation, outcome=("SUCCEEDED", update.get("Payload") or "", None))
    _finish(operation, "FAILED", now)
    return Applied(operation, outcome=("FAILED", None, update.get("Error") or {}))


def _context(
    operation: dict[str, Any], update: dict[str, Any], action: str, now: float, arn: str
) -> Applied:
    details = dict(operation.get("ContextDetails") or {})
    if (update.get("ContextOptions") or {}).get("ReplayChildren"):
        details["ReplayChildren"] = True
    if action == "START":
        operation["Status"] = "STARTED"
        operation["ContextDetails"] = details
        return Applied(operation, events=[event("ContextStarted", operation, now)])
    if action == "SUCCEED":
        details["Result"] = update.get("Payload")
        _finish(operation, "SUCCEEDED", now)
        made = event("ContextSucceeded", operation, now, Result=_result(update.get("Payload")))
    else:
        details["Error"] = update.get("Error") or {}
        _finish(operation, "FAILED", now)
        made = event("ContextFailed", operation, now, Error=_error(update.get("Error")))
    operation["ContextDetails"] = {k: v for k, v in details.items() if v is not None}
    return Applied(operation, events=[made])


def _step(
    operation: dict[str, Any], update: dict[str, Any], action: str, now: float, arn: str
) -> Applied:
    details = dict(operation.get("StepDetails") or {"Attempt": 0})
    attempt = int(details.get("Attempt", 0))
    if action == "START":
        operation["Status"] = "STARTED"
        details.pop("NextAttemptTimestamp", None)
        operation["StepDetails"] = details
        return Applied(operation, events=[event("StepStarted", operation, now)])
    attempt += 1
    details["Attempt"] = attempt
    if action == "RETRY":
        delay = int((update.get("StepOptions") or {}).get("NextAttemptDelaySeconds") or 1)
        details["NextAttemptTimestamp"] = now + delay
        details.pop("Result", None)
        if update.get("Error"):
            details["Error"] = update["Error"]
        if update.get("Payload") is not None:
            details["Result"] = update["Payload"]
        operation["Status"] = "PENDING"
        operation["StepDetails"] = details
        retry = {"CurrentAttempt": attempt, "NextAttemptDelaySeconds": delay}
        made = event(
            "StepFailed", operation, now, Error=_error(update.get("Error")), RetryDetails=retry
        )
        return Applied(operation, wake_at=now + delay, events=[made])
    details.pop("NextAttemptTimestamp", None)
    if action == "SUCCEED":
        details["Result"] = update.get("Payload")
        details.pop("Error", None)
        _finish(operation, "SUCCEEDED", now)
        made = event(
            "StepSucceeded",
            operation,
            now,
            Result=_result(update.get("Payload")),
            RetryDetails={"CurrentAttempt": attempt},
        )
    else:
        details["Error"] = update.get("Error") or {}
        _finish(operation, "FAILED", now)
        made = event(
            "StepFailed",
            operation,
            now,
            Error=_error(update.get("Error")),
            RetryDetails={"CurrentAttempt": attempt},
        )
    operation["StepDetails"] = {k: v for k, v in details.items() if v is not None}
    return Applied(operation, events=[made])


def _wait(
    operation: dict[str, Any], update: dict[str, Any], action: str, now: float, arn: str
) -> Applied:
    if action == "CANCEL":
        _finish(operation, "CANCELLED", now)
        return Applied(operation, events=[event("WaitCancelled", operation, now)])
    seconds = int((update.get("WaitOptions") or {}).get("WaitSeconds") or 0)
    if seconds < 1:
        raise InvalidParameterValue(f"WAIT operation {update['Id']} needs WaitOptions.WaitSeconds")
    if operation.get("Status") == "STARTED":
        end = float(operation["WaitDetails"]["ScheduledEndTimestamp"])
        return Applied(operation, wake_at=end)
    operation["Status"] = "STARTED"
    operation["WaitDetails"] = {"ScheduledEndTimestamp": now + seconds}
    made = event(
        "WaitStarted", operation, now, Duration=seconds, ScheduledEndTimestamp=now + seconds
    )
    return Applied(operation, wake_at=now + seconds, events=[made])


def _callback(
    operation: dict[str, Any], update: dict[str, Any], action: str, now: float, arn: str
) -> Applied:
    if operation.get("Status") == "STARTED":
        return Applied(operation, wake_at=_callback_deadline(operation, now))
    options = update.get("CallbackOptions") or {}
    timeout = int(options.get("TimeoutSeconds") or 0)
    heartbeat = int(options.get("HeartbeatTimeoutSeconds") or 0)
    # The id names the execution and the operation, and a secret part no one can guess.
    raw = f"{arn}\n{operation['Id']}\n{secrets.token_hex(16)}".encode()
    callback_id = base64.b64encode(raw).decode()
    operation["Status"] = "STARTED"
    operation["CallbackDetails"] = {"CallbackId": callback_id}
    # Kept for the scheduler, never answered: the CallbackDetails shape has no such member.
    operation["_Callback"] = {"Timeout": timeout, "Heartbeat": heartbeat, "Beat": now}
    details: dict[str, Any] = {"CallbackId": callback_id}
    if timeout:
        details["Timeout"] = timeout
    if heartbeat:
        details["HeartbeatTimeout"] = heartbeat
    made = event("CallbackStarted", operation, now, **details)
    return Applied(
        operation,
        wake_at=_callback_deadline(operation, now),
        callback_id=callback_id,
        events=[made],
    )


def _callback_deadline(operation: dict[str, Any], now: float) -> float | None:
    kept = operation.get("_Callback") or {}
    deadlines = []
    if kept.get("Timeout"):
        deadlines.append(float(operation["StartTimestamp"]) + kept["Timeout"])
    if kept.get("Heartbeat"):
        deadlines.append(float(kept.get("Beat", now)) + kept["Heartbeat"])
    return min(deadlines) if deadlines else None


def callback_outcome(
    operation: dict[str, Any],
    status: str,
    now: float,
    *,
    result: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The CALLBACK ``operation`` completed (SUCCEEDED / FAILED / TIMED_OUT): answers its
    history event; ``operation`` is changed in place."""
    details = operation["CallbackDetails"]
    _finish(operation, status, now)
    if status == "SUCCEEDED":
        details["Result"] = result or ""
        return event("CallbackSucceeded", operation, now, Result=_result(result))
    details["Error"] = error or {}
    kind = "CallbackFailed" if status == "FAILED" else "CallbackTimedOut"
    return event(kind, operation, now, Error=_error(error))


def due_transition(operation: dict[str, Any], now: float) -> dict[str, Any] | None:
    """What the scheduler does to ``operation`` once its ``wake_at`` passed: a wait
    succeeds, a retry becomes READY, a callback times out. Answers the history event (or
    None); ``operation`` is changed in place."""
    if operation["Type"] == "WAIT" and operation["Status"] == "STARTED":
        _finish(operation, "SUCCEEDED", now)
        started = float(operation["StartTimestamp"])
        end = float(operation["WaitDetails"]["ScheduledEndTimestamp"])
        return event("WaitSucceeded", operation, now, Duration=round(end - started))
    if operation["Type"] == "STEP" and operation["Status"] == "PENDING":
        operation["Status"] = "READY"
        return None
    if operation["Type"] == "CALLBACK" and operation["Status"] == "STARTED":
        kept = operation.get("_Callback") or {}
        which = (
            "Callback.Heartbeat"
            if kept.get("Heartbeat")
            and not (
                kept.get("Timeout") and float(operation["StartTimestamp"]) + kept["Timeout"] <= now
            )
            else "Callback.Timeout"
        )
        error = {"ErrorType": which, "ErrorMessage": "Callback timed out"}
        return callback_outcome(operation, "TIMED_OUT", now, error=error)
    return None


def heartbeat(operation: dict[str, Any], now: float) -> float | None:
    """A heartbeat for the CALLBACK ``operation``: answers its new deadline."""
    operation.setdefault("_Callback", {})["Beat"] = now
    return _callback_deadline(operation, now)


_HANDLERS = {
    "EXECUTION": _execution,
    "CONTEXT": _context,
    "STEP": _step,
    "WAIT": _wait,
    "CALLBACK": _callback,
}


class CallbackTimedOut(PlatformError):
    """A callback answered after it timed out (``CallbackTimeoutException``)."""

    status = 400
    error_type = "CallbackTimeoutException"
    message_key = "Message"


def public_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation as the API answers it (without what only the scheduler reads)."""
    return {key: value for key, value in operation.items() if not key.startswith("_")}


def invocation_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation as the invocation's event carries it: timestamps in epoch millis."""
    made = public_operation(json.loads(json.dumps(operation)))
    for key in ("StartTimestamp", "EndTimestamp"):
        if made.get(key) is not None:
            made[key] = int(made[key] * 1000)
    for details, key in (
        ("StepDetails", "NextAttemptTimestamp"),
        ("WaitDetails", "ScheduledEndTimestamp"),
    ):
        if (made.get(details) or {}).get(key) is not None:
            made[details][key] = int(made[details][key] * 1000)
    return made


def function_error(payload: bytes) -> dict[str, Any]:
    """The ErrorObject of a function error's document (``errorType``, ``errorMessage``)."""
    try:
        document = json.loads(payload)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    return {
        "ErrorType": str(document.get("errorType", "Function.Error")),
        "ErrorMessage": str(document.get("errorMessage", "The function failed")),
    }


def finished_event(
    status: str,
    execution_id: str,
    name: str,
    result: str | None,
    error: dict[str, Any] | None,
    now: float,
) -> dict[str, Any]:
    """The history event of an execution ending with ``status``."""
    kind = {
        "SUCCEEDED": "ExecutionSucceeded",
        "FAILED": "ExecutionFailed",
        "TIMED_OUT": "ExecutionTimedOut",
        "STOPPED": "ExecutionStopped",
    }[status]
    if status == "SUCCEEDED":
        return event(kind, {"Id": execution_id, "Name": name}, now, Result=_result(result))
    return event(kind, {"Id": execution_id, "Name": name}, now, Error=_error(error))


def make_token(execution_id: str, seq: int) -> str:
    """A checkpoint token: good for the one checkpoint after ``seq`` of the execution."""
    return base64.b64encode(f"{execution_id}:{seq}".encode()).decode()


def read_token(token: str) -> tuple[str, int] | None:
    """What ``make_token`` made ``token`` from, or None for a token it did not make."""
    try:
        execution_id, _, seq = base64.b64decode(token, validate=True).decode().partition(":")
        return execution_id, int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
