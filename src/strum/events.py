"""Real Lambda event shapes built from a payload: ``strum invoke --event sqs ...``.

Consumers written for SQS, SNS, S3, EventBridge, Kinesis or DynamoDB streams receive these
events on AWS; building the same shapes locally lets them be exercised on the platform (and
in a project's own tests: ``from strum.events import build_event``) without hand-writing
AWS's envelopes. Each builder takes the payload a user cares about and fills in the rest
the way AWS does (ids, timestamps, checksums, ARNs); a list payload becomes one record per
item, so batches and partial batch failures can be tried too.

What a payload means per kind:

- ``sqs``: each message body (a string is sent as is, anything else as JSON);
- ``sns``: each message (likewise); the subject is ``None``;
- ``s3``: an object key, or ``{"key", "bucket"?, "size"?, "event"?}`` (event defaults to
  ``ObjectCreated:Put``); the bucket defaults to the one in ``arn``;
- ``eventbridge``: the ``detail``, or a whole event with ``detail-type`` and ``source``
  (missing fields are filled in);
- ``kinesis``: each record's data (base64-encoded for you, as Kinesis delivers it);
- ``dynamodb``: each new item image as plain JSON (marshalled to DynamoDB's typed JSON);
  the first key is the partition key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

KINDS = ("sqs", "sns", "s3", "eventbridge", "kinesis", "dynamodb")
ACCOUNT = "000000000000"


class EventShapeError(ValueError):
    """A payload that does not fit the event kind asked for."""


def default_arn(kind: str, region: str = "us-east-1") -> str:
    """The source ARN used when the project names none."""
    return {
        "sqs": f"arn:aws:sqs:{region}:{ACCOUNT}:strum-local",
        "sns": f"arn:aws:sns:{region}:{ACCOUNT}:strum-local",
        "s3": "arn:aws:s3:::strum-local",
        "eventbridge": f"arn:aws:events:{region}:{ACCOUNT}:event-bus/default",
        "kinesis": f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/strum-local",
        "dynamodb": (
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/strum-local/stream/2024-01-01T00:00:00.000"
        ),
    }[kind]


def build_event(
    kind: str,
    payload: Any,
    *,
    arn: str | None = None,
    region: str = "us-east-1",
    now: float | None = None,
) -> dict[str, Any]:
    """The event a ``kind`` source delivers for ``payload`` (see the module docstring)."""
    if kind not in KINDS:
        raise EventShapeError(f"unknown event kind {kind!r}; choose one of {', '.join(KINDS)}")
    moment = time.time() if now is None else now
    source_arn = arn or default_arn(kind, region)
    if kind == "eventbridge":
        return _eventbridge(payload, region, moment)
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise EventShapeError(f"an empty list makes no {kind} records; give at least one")
    build: Callable[[Any, int, str, str, float], dict[str, Any]] = _RECORDS[kind]
    return {"Records": [build(item, i, source_arn, region, moment) for i, item in enumerate(items)]}


def _text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def iso_millis(moment: float, zone: str = "Z") -> str:
    """``moment`` (epoch seconds) as UTC ISO 8601 with milliseconds, as AWS writes times:
    ``2024-05-01T12:00:00.000Z`` (or with ``zone="+0000"``, Lambda's ``LastModified``)."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
    return f"{whole}.{int(moment % 1 * 1000):03d}{zone}"


def _sqs(item: Any, index: int, arn: str, region: str, moment: float) -> dict[str, Any]:
    body = _text(item)
    sent = str(int(moment * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def _sns(item: Any, index: int, arn: str, region: str, moment: float) -> dict[str, Any]:
    subscription = f"{arn}:{uuid.uuid4()}"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": arn,
            "Subject": None,
            "Message": _text(item),
            "Timestamp": iso_millis(moment),
            "SignatureVersion": "1",
            "Signature": "",  # a local event is not signed
            "SigningCertUrl": "",
            "UnsubscribeUrl": "",
            "MessageAttributes": {},
        },
    }


def _s3(item: Any, index: int, arn: str, region: str, moment: float) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"key": item}
    if not isinstance(item, dict) or not isinstance(item.get("key"), str):
        raise EventShapeError(
            'an s3 payload is an object key or {"key": "...", "bucket": "...", "size": 0}, '
            f"not {item!r}"
        )
    bucket = item.get("bucket") or arn.rsplit(":", 1)[-1]
    name = str(item.get("event") or "ObjectCreated:Put").removeprefix("s3:")
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_millis(moment),
        "eventName": name,
        "userIdentity": {"principalId": "AWS:strum-local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "strum-local",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "strum-local"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                # S3 delivers keys URL-encoded with "+" for spaces.
                "key": _s3_key(item["key"]),
                "size": int(item.get("size", 0)),
                "eTag": hashlib.md5(item["key"].encode(), usedforsecurity=False).hexdigest(),
                "sequencer": f"{int(moment * 1e6) + index:016X}",
            },
        },
    }


def _s3_key(key: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(key, safe="/")


def _kinesis(item: Any, index: int, arn: str, region: str, moment: float) -> dict[str, Any]:
    sequence = f"{int(moment * 1e6):030d}{index:026d}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "strum-local",
            "sequenceNumber": sequence,
            "data": base64.b64encode(_text(item).encode()).decode(),
            "approximateArrivalTimestamp": round(moment, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/strum-local",
        "awsRegion": region,
        "eventSourceARN": arn,
    }


def _dynamodb(item: Any, index: int, arn: str, region: str, moment: float) -> dict[str, Any]:
    if not isinstance(item, dict) or not item:
        raise EventShapeError(f"a dynamodb payload is an item (a non-empty object), not {item!r}")
    image = {key: marshal(value) for key, value in item.items()}
    key = next(iter(item))
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": {
            "ApproximateCreationDateTime": int(moment),
            "Keys": {key: image[key]},
            "NewImage": image,
            "SequenceNumber": f"{int(moment * 1e6)}{index:06d}",
            "SizeBytes": len(json.dumps(item)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": arn,
    }


def marshal(value: Any) -> dict[str, Any]:
    """A JSON value in DynamoDB's typed form (``{"S": "x"}``, ``{"N": "1"}``, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [marshal(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {str(key): marshal(item) for key, item in value.items()}}
    raise EventShapeError(f"cannot express {value!r} as a DynamoDB attribute")


def _eventbridge(payload: Any, region: str, moment: float) -> dict[str, Any]:
    whole = isinstance(payload, dict) and "detail-type" in payload and "source" in payload
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Local Event",
        "source": "strum.local",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment)),
        "region": region,
        "resources": [],
        "detail": payload if not whole else {},
    }
    if whole:
        event.update(payload)
    return event


_RECORDS: dict[str, Callable[[Any, int, str, str, float], dict[str, Any]]] = {
    "sqs": _sqs,
    "sns": _sns,
    "s3": _s3,
    "kinesis": _kinesis,
    "dynamodb": _dynamodb,
}
