"""The event builders: every shape has the fields of the real event (the fixtures in
tests/events, written from AWS's documentation), and the entry router consumes them."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from strum.events import KINDS, EventShapeError, build_event, marshal

FIXTURES = Path(__file__).parent / "events"
FIXTURE_OF = {
    "sqs": "sqs.json",
    "sns": "sns.json",
    "s3": "s3-put.json",
    "kinesis": "kinesis.json",
    "dynamodb": "dynamodb-stream.json",
    "eventbridge": "eventbridge-scheduled.json",
}
PAYLOAD_OF: dict[str, Any] = {
    "sqs": {"id": 1},
    "sns": "hello",
    "s3": {"key": "a.txt", "bucket": "b", "size": 3},
    "kinesis": {"click": 1},
    "dynamodb": {"pk": "ORDER#1", "total": 39.98},
    "eventbridge": {"x": 1},
}


def keys(value: Any) -> Any:
    """The nested key structure of a JSON document (values dropped)."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_the_real_events_fields(kind: str) -> None:
    real = json.loads((FIXTURES / FIXTURE_OF[kind]).read_text())
    built = build_event(kind, PAYLOAD_OF[kind])
    assert set(keys(built)) == set(keys(real))
    if "Records" in real:
        real_record, built_record = real["Records"][0], built["Records"][0]
        assert set(built_record) == set(real_record)
        for field, value in real_record.items():
            if isinstance(value, dict) and value and field != "messageAttributes":
                assert set(built_record[field]) >= set(value), field


def test_sqs_bodies_checksums_and_batches() -> None:
    event = build_event("sqs", [{"id": 1}, "plain text"], arn="arn:aws:sqs:eu-west-1:1:q")
    first, second = event["Records"]
    assert first["body"] == '{"id": 1}' and second["body"] == "plain text"
    assert first["md5OfBody"] == hashlib.md5(b'{"id": 1}').hexdigest()
    assert first["messageId"] != second["messageId"]
    assert first["eventSourceARN"] == "arn:aws:sqs:eu-west-1:1:q"


def test_sns_subscription_arn_extends_the_topic() -> None:
    (record,) = build_event("sns", {"a": 1}, arn="arn:aws:sns:us-east-1:1:alerts")["Records"]
    assert record["EventSubscriptionArn"].startswith("arn:aws:sns:us-east-1:1:alerts:")
    assert record["Sns"]["TopicArn"] == "arn:aws:sns:us-east-1:1:alerts"
    assert json.loads(record["Sns"]["Message"]) == {"a": 1}


def test_s3_keys_are_url_encoded_and_the_bucket_comes_from_the_arn() -> None:
    (record,) = build_event("s3", "holiday 2024/ü.png", arn="arn:aws:s3:::photos")["Records"]
    assert record["s3"]["bucket"] == {
        "name": "photos",
        "ownerIdentity": {"principalId": "strum-local"},
        "arn": "arn:aws:s3:::photos",
    }
    assert record["s3"]["object"]["key"] == "holiday+2024/%C3%BC.png"
    assert record["eventName"] == "ObjectCreated:Put"
    (deleted,) = build_event("s3", {"key": "k", "event": "s3:ObjectRemoved:Delete"})["Records"]
    assert deleted["eventName"] == "ObjectRemoved:Delete"


def test_kinesis_data_is_base64_and_dynamodb_images_are_typed() -> None:
    (record,) = build_event("kinesis", {"a": 1})["Records"]
    assert json.loads(base64.b64decode(record["kinesis"]["data"])) == {"a": 1}
    (change,) = build_event("dynamodb", {"pk": "k", "n": 2, "ok": True, "tags": ["x"]})["Records"]
    assert change["dynamodb"]["Keys"] == {"pk": {"S": "k"}}
    assert change["dynamodb"]["NewImage"] == {
        "pk": {"S": "k"},
        "n": {"N": "2"},
        "ok": {"BOOL": True},
        "tags": {"L": [{"S": "x"}]},
    }
    assert marshal({"m": None}) == {"M": {"m": {"NULL": True}}}


def test_eventbridge_detail_or_whole_event() -> None:
    plain = build_event("eventbridge", {"order": 1})
    assert plain["detail"] == {"order": 1} and plain["source"] == "strum.local"
    whole = build_event(
        "eventbridge", {"source": "shop", "detail-type": "OrderPlaced", "detail": {"id": 2}}
    )
    assert (whole["source"], whole["detail-type"], whole["detail"]) == (
        "shop", "OrderPlaced", {"id": 2},
    )  # fmt: skip
    assert whole["version"] == "0" and whole["id"]


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("pigeon", {}, "unknown event kind"),
        ("sqs", [], "an empty list"),
        ("s3", {"bucket": "b"}, "an s3 payload is an object key"),
        ("dynamodb", "x", "a dynamodb payload is an item"),
    ],
)
def test_payloads_that_do_not_fit_say_why(kind: str, payload: Any, message: str) -> None:
    with pytest.raises(EventShapeError, match=message):
        build_event(kind, payload)


def test_the_entry_router_consumes_built_events(tmp_path: Path, monkeypatch) -> None:
    from strum.runtime.routing import Router

    (tmp_path / "consumers.py").write_text(
        "seen = []\n"
        "def record(r, context):\n"
        "    if r.get('body') == 'bad':\n"
        "        raise ValueError('bad')\n"
        "    seen.append(r)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    router = Router(
        {
            "version": 1,
            "events": [
                {"name": "q", "source": "sqs", "function": "consumers:record", "batch": "record"}
            ],
        }
    )
    event = build_event("sqs", ["good", "bad"])
    answer = router.handle(event, None)
    bad_id = event["Records"][1]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
