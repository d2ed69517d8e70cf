"""Event consumers end to end: `strum invoke --event`, async retries from [tool.strum.async],
and `strum events dead | redrive | discard`, against a real platform."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from tests.cli.test_end_to_end import home, strum  # noqa: F401 - the module's platform
from tests.platform.invoke.test_queue import wait_for

JOBS = """
import json, os

def _note(kind, value):
    with open(os.environ["OUT"], "a") as file:
        file.write(json.dumps([kind, value]) + "\\n")

def handle_order(record, context):
    order = json.loads(record["body"])
    if order.get("bad"):
        raise ValueError(f"cannot ship {order}")
    _note("order", order["id"])

def on_upload(record, context):
    _note("upload", [record["s3"]["bucket"]["name"], record["s3"]["object"]["key"]])

def on_bus(event, context):
    if os.path.exists(os.environ["FAIL"]):
        raise RuntimeError("the bus consumer is broken")
    _note("bus", event["detail"])
"""


def jobs_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    root, out, fail = tmp_path / "jobs", tmp_path / "out.jsonl", tmp_path / "fail"
    root.mkdir()
    (root / "jobs.py").write_text(textwrap.dedent(JOBS))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [project]
            name = "jobs"
            version = "0"
            dependencies = []

            [tool.strum]
            env = {{ OUT = "{out}", FAIL = "{fail}" }}

            [tool.strum.async]
            retries = 0

            [tool.strum.events.orders]
            source = "sqs"
            function = "jobs:handle_order"
            arn = "arn:aws:sqs:us-east-1:000000000000:orders"
            batch = "record"

            [tool.strum.events.uploads]
            source = "s3"
            function = "jobs:on_upload"
            batch = "record"

            [tool.strum.events.bus]
            source = "eventbridge"
            function = "jobs:on_bus"
            """
        )
    )
    return root, out, fail


def notes(out: Path) -> list[list]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def test_consumers_get_real_events_and_dead_letters_can_be_redriven(
    home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    root, out, fail = jobs_project(tmp_path)
    at = ("--project", str(root))
    deployed = strum(home, "deploy", *at)
    assert "set async invocation of jobs-dev:dev: 0 retries" in deployed

    # An SQS batch of three, one bad: only that one is reported back for a retry.
    result = strum(
        home, "invoke", *at, "--event", "orders",
        "--payload", '[{"id": 1}, {"bad": true}, {"id": 3}]',
    )  # fmt: skip
    answer = json.loads(result.strip().splitlines()[-1])
    assert len(answer["batchItemFailures"]) == 1
    assert [n for n in notes(out) if n[0] == "order"] == [["order", 1], ["order", 3]]

    strum(home, "invoke", *at, "--event", "s3", "--payload", '"photos/a b.png"')
    assert ["upload", ["strum-local", "photos/a+b.png"]] in notes(out)

    # An async event that fails with retries = 0 becomes a dead letter at once.
    fail.touch()
    queued = strum(home, "invoke", *at, "--async", "--event", "bus", "--payload", '{"n": 1}')
    assert "queued" in queued
    letters = wait_for(
        lambda: json.loads(strum(home, "events", "dead", *at, "--json")), what="a dead letter"
    )
    (letter,) = letters
    assert letter["reason"] == "RetriesExhausted" and letter["attempts"] == 1
    assert json.loads(letter["payload"])["detail"] == {"n": 1}
    listing = strum(home, "events", "dead", *at)
    assert letter["request_id"] in listing and "RuntimeError" in listing
    # (the rows are aligned to the longest name, a consumer's here)
    assert re.search(r"^dead letters +1 ", strum(home, "status", *at), re.M)

    # Fixed: redrive it and it is delivered.
    fail.unlink()
    assert "queued 1 event(s)" in strum(home, "events", "redrive", *at, "--all")
    wait_for(lambda: ["bus", {"n": 1}] in notes(out), what="the redriven event")
    assert json.loads(strum(home, "events", "dead", *at, "--json")) == []

    # Discard: another dead letter, dropped for good.
    fail.touch()
    strum(home, "invoke", *at, "--async", "--event", "bus", "--payload", '{"n": 2}')
    (second,) = wait_for(
        lambda: json.loads(strum(home, "events", "dead", *at, "--json")), what="a dead letter"
    )
    discarded = strum(home, "events", "discard", *at, "--id", second["request_id"], "--yes")
    assert "discarded 1" in discarded
    assert json.loads(strum(home, "events", "dead", *at, "--json")) == []
    strum(home, "undeploy", "--yes", *at)


def test_events_commands_explain_bad_input(home: Path, tmp_path: Path) -> None:  # noqa: F811
    root, _out, _fail = jobs_project(tmp_path)
    at = ("--project", str(root))
    strum(home, "deploy", *at)
    wrong_kind = strum(home, "invoke", *at, "--event", "carrier-pigeon", ok=False)
    assert "neither an event kind" in wrong_kind and "bus, orders, uploads" in wrong_kind
    bad_s3 = strum(home, "invoke", *at, "--event", "s3", "--payload", "[1]", ok=False)
    assert "an s3 payload is an object key" in bad_s3
    no_selection = strum(home, "events", "redrive", *at, ok=False)
    assert "--id REQUEST_ID (repeatable) or --all" in no_selection
    unknown = strum(home, "events", "redrive", *at, "--id", "nope", ok=False)
    assert "no dead letter with request id nope" in unknown
    strum(home, "undeploy", "--yes", *at)


def test_a_consumer_gets_lambdas_batch_shape_by_default(home, tmp_path):  # noqa: F811
    root = tmp_path / "shape"
    root.mkdir()
    (root / "jobs.py").write_text(
        "def consume(event, context):\n    return [record['body'] for record in event['Records']]\n"
    )
    (root / "strum.toml").write_text(
        'name = "shape"\n[events.orders]\nsource = "sqs"\nfunction = "jobs:consume"\n'
        'arn = "arn:aws:sqs:us-east-1:000000000000:orders"\n'
    )
    at = ("--project", str(root))
    strum(home, "deploy", *at)
    out = strum(home, "invoke", "--event", "orders", "--payload", '["a", "b"]', *at)
    assert json.loads(out.strip().splitlines()[-1]) == ["a", "b"]
    status = json.loads(strum(home, "status", "--json", *at))
    assert status["consumers"]["orders"]["batch"] == "event"
