"""A small validator of raw API responses against botocore's model of Lambda.

boto3 parses an answer by the model and silently drops what the model does not name, so
the check reads the raw HTTP response (status, headers, body) botocore received and
compares it with the operation's output shape: the status code the model gives, required
members present, every value of its shape's type (recursively), and no member the model
does not know - but strum's documented extension fields.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

# strum's own configuration field (the function's sandbox permissions), answered beside
# AWS's in a FunctionConfiguration.
EXTENSIONS = frozenset({"StrumPermissions"})


def response_problems(
    operation: OperationModel, status: int, headers: dict[str, str], body: bytes
) -> list[str]:
    """What is wrong with one raw response of ``operation`` ([] when nothing)."""
    problems: list[str] = []
    expected = operation.http.get("responseCode", 200)
    output = operation.output_shape
    # An output with a statusCode member says the status varies (DeleteFunction: 204, or
    # 202 while a durable function's executions drain).
    varies = output is not None and any(
        member.serialization.get("location") == "statusCode" for member in output.members.values()
    )
    if status != expected and not varies:
        problems.append(f"status {status}, the model says {expected}")
    if output is None:
        if body.strip() not in (b"", b"{}"):
            problems.append(f"a body where the model has none: {body[:200]!r}")
        return problems
    payload = output.serialization.get("payload")
    for name, member in output.members.items():
        if member.serialization.get("location") == "header":
            header = member.serialization.get("name", name)
            if name in output.required_members and header not in headers:
                problems.append(f"required header {header} is missing")
    if payload is not None:
        member = output.members[payload]
        if member.serialization.get("eventstream"):
            return [*problems, *_event_problems(member, body)]
        if member.type_name == "structure":
            problems.extend(_problems(_json(body, problems), member, payload))
        return problems
    document = _json(body, problems)
    if not isinstance(document, dict):
        return [*problems, f"the body is not a JSON object: {body[:200]!r}"]
    in_body = {
        name: member
        for name, member in output.members.items()
        if member.serialization.get("location") is None
    }
    for name in set(document) - set(in_body) - EXTENSIONS:
        problems.append(f"unknown member {name}")
    for name in output.required_members:
        if name in in_body and name not in document:
            problems.append(f"required member {name} is missing")
    for name, value in document.items():
        if name in in_body and value is not None:
            problems.extend(_problems(value, in_body[name], name))
    return problems


def _event_problems(stream: Shape, body: bytes) -> list[str]:
    """An ``application/vnd.amazon.eventstream`` body: every message decodes (prelude and
    message CRCs checked by botocore's parser), is an event of the stream's shape, and its
    JSON payload - or its blob - is of that event's shape."""
    from botocore.eventstream import EventStreamBuffer

    problems: list[str] = []
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    events = list(buffer)
    if not events:
        return ["an event stream with no events"]
    for message in events:
        kind = message.headers.get(":event-type")
        if message.headers.get(":message-type") != "event" or kind not in stream.members:
            problems.append(f"an unknown event {message.headers}")
            continue
        event = stream.members[kind]
        blob = next(
            (m for m in event.members.values() if m.serialization.get("eventpayload")), None
        )
        if blob is not None and blob.type_name == "blob":
            continue
        document = _json(message.payload, problems)
        problems.extend(_problems(document, event, kind))
    return problems


def error_problems(service: ServiceModel, code: str, status: int, body: bytes) -> list[str]:
    """What is wrong with one raw error answer: its status and members against the error's
    shape in the model (errors AWS's front end answers, outside the model, need only be a
    JSON object with a message)."""
    problems: list[str] = []
    document = _json(body, problems)
    if not isinstance(document, dict):
        return [*problems, f"the error body is not a JSON object: {body[:200]!r}"]
    if code not in service.shape_names:
        if not {"message", "Message"} & set(document):
            problems.append(f"{code} carries no message: {document}")
        return problems
    shape = service.shape_for(code)
    expected = shape.metadata.get("error", {}).get("httpStatusCode")
    if expected is not None and status != expected:
        problems.append(f"{code}: status {status}, the model says {expected}")
    return problems + _problems(document, shape, code)


def _json(body: bytes, problems: list[str]) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        problems.append(f"the body is not JSON: {body[:200]!r}")
        return {}


def _problems(value: Any, shape: Shape, path: str) -> list[str]:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        unknown = set(value) - set(shape.members) - EXTENSIONS
        found = [f"{path}.{name}: unknown member" for name in sorted(unknown)]
        found += [
            f"{path}.{name}: required member missing"
            for name in shape.required_members
            if value.get(name) is None
        ]
        for name, item in value.items():
            if name in shape.members and item is not None:
                found += _problems(item, shape.members[name], f"{path}.{name}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [
            p for i, item in enumerate(value) for p in _problems(item, shape.member, f"{path}[{i}]")
        ]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a map"]
        return [
            problem
            for key, item in value.items()
            for problem in (
                _problems(key, shape.key, f"{path} key")
                + _problems(item, shape.value, f"{path}[{key}]")
            )
        ]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        if shape.enum and value not in shape.enum:
            return [f"{path}: {value!r} is not one of {shape.enum}"]
        return []
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if kind in ("float", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if kind == "timestamp":
        ok = isinstance(value, int | float | str) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a timestamp"]
    if kind == "blob":
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not base64 text"]
    return []
