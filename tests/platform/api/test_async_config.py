"""Event-invoke configs through boto3, destinations, and the dead-letter routes.

Every platform here runs with ``retry_delay_scale=0.001`` (conftest): AWS's one and two
minute retry delays take 60 and 120 ms.
"""

from __future__ import annotations

import json
import textwrap
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.platform.invoke.test_queue import deliveries, deploy, send, wait_for
from tests.platform.packages import ROLE, make_zip

# Records each delivery like test_asyncq's recorder, and fails while the file $FAIL exists.
FLAKY = """
import json, os, time

def handler(event, context):
    with open(os.environ["RECORD"], "a") as file:
        file.write(f"{context.aws_request_id} {time.time()}\\n")
    if os.path.exists(os.environ["FAIL"]):
        raise RuntimeError("failing on purpose")
    return {"echo": event}
"""

# Appends every event it gets, as one JSON line, to $SINK.
SINK = """
import json, os

def handler(event, context):
    with open(os.environ["SINK"], "a") as file:
        file.write(json.dumps(event) + "\\n")
"""


def deploy_flaky(client, name: str, tmp_path: Path) -> tuple[Path, Path]:
    record, fail = tmp_path / f"{name}.record", tmp_path / f"{name}.fail"
    client.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": textwrap.dedent(FLAKY)})},
        Environment={"Variables": {"RECORD": str(record), "FAIL": str(fail)}},
    )  # fmt: skip
    return record, fail


def deploy_sink(client, name: str, tmp_path: Path) -> Path:
    sink = tmp_path / f"{name}.jsonl"
    client.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": textwrap.dedent(SINK)})},
        Environment={"Variables": {"SINK": str(sink)}},
    )  # fmt: skip
    return sink


def received(sink: Path) -> list[dict]:
    if not sink.exists():
        return []
    return [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_configs_round_trip_through_boto3(running_platform, lambda_client, tmp_path):
    deploy(lambda_client, "fn", tmp_path / "record")
    deploy(lambda_client, "other", tmp_path / "other")
    put = lambda_client.put_function_event_invoke_config(
        FunctionName="fn",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn("other")}},
    )
    assert put["FunctionArn"] == arn("fn") + ":$LATEST"
    assert put["MaximumRetryAttempts"] == 1
    assert put["MaximumEventAgeInSeconds"] == 21600
    assert put["DestinationConfig"]["OnFailure"] == {"Destination": arn("other")}
    # Update merges; Put replaces.
    lambda_client.update_function_event_invoke_config(
        FunctionName="fn", MaximumEventAgeInSeconds=120
    )
    got = lambda_client.get_function_event_invoke_config(FunctionName="fn")
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 120)
    assert got["DestinationConfig"]["OnFailure"] == {"Destination": arn("other")}
    lambda_client.put_function_event_invoke_config(FunctionName="fn", MaximumRetryAttempts=0)
    got = lambda_client.get_function_event_invoke_config(FunctionName="fn")
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 21600)
    assert got["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    # Per qualifier: a published version has its own.
    version = lambda_client.publish_version(FunctionName="fn")["Version"]
    lambda_client.put_function_event_invoke_config(
        FunctionName="fn", Qualifier=version, MaximumRetryAttempts=2
    )
    listed = lambda_client.list_function_event_invoke_configs(FunctionName="fn")
    assert sorted(c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]) == sorted(
        [arn("fn") + ":$LATEST", arn("fn") + f":{version}"]
    )
    lambda_client.delete_function_event_invoke_config(FunctionName="fn")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_event_invoke_config(FunctionName="fn")
    # Deleting the function takes its configs along.
    lambda_client.delete_function(FunctionName="fn")
    assert running_platform.platform.store.list_event_invoke_configs("fn") == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"MaximumRetryAttempts": 3}, "less than or equal to 2"),
        ({"MaximumEventAgeInSeconds": 59}, "greater than or equal to 60"),
        ({"MaximumEventAgeInSeconds": 21601}, "less than or equal to 21600"),
        (
            {
                "DestinationConfig": {
                    "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}
                }
            },
            "Lambda functions only; sqs destinations",
        ),
        (
            {"DestinationConfig": {"OnSuccess": {"Destination": arn("fn")}}},
            "cannot be its own destination",
        ),
        ({"Qualifier": "nope"}, "Cannot find alias arn"),
        ({"Qualifier": "7"}, "Function not found"),
    ],
)
def test_bad_configs_are_refused_with_the_reason(running_platform, tmp_path, arguments, message):
    # Without boto3's own checks, so the platform's answer is what is seen.
    client = running_platform.client(parameter_validation=False)
    deploy(client, "fn", tmp_path / "record")
    with pytest.raises(ClientError) as raised:
        client.put_function_event_invoke_config(FunctionName="fn", **arguments)
    assert message in str(raised.value)


def test_a_missing_function_has_no_config(lambda_client):
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.put_function_event_invoke_config(FunctionName="ghost")


def test_retry_attempts_come_from_the_config(running_platform, lambda_client, tmp_path):
    record, fail = deploy_flaky(lambda_client, "flaky", tmp_path)
    fail.touch()
    lambda_client.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=0)
    request_id = send(lambda_client, "flaky", {"n": 1})
    queue = running_platform.platform.asyncq
    (letter,) = wait_for(queue.dead_letters, what="the dead letter")
    assert (letter["request_id"], letter["attempts"]) == (request_id, 1)
    assert [rid for rid, _ in deliveries(record)] == [request_id]


def test_failure_records_go_to_the_on_failure_function(running_platform, lambda_client, tmp_path):
    record, fail = deploy_flaky(lambda_client, "flaky", tmp_path)
    sink = deploy_sink(lambda_client, "failures", tmp_path)
    fail.touch()
    lambda_client.put_function_event_invoke_config(
        FunctionName="flaky",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn("failures")}},
    )
    request_id = send(lambda_client, "flaky", {"order": 42})
    (document,) = wait_for(lambda: received(sink), what="the failure record")
    assert document["version"] == "1.0"
    assert document["requestContext"] == {
        "requestId": request_id,
        "functionArn": arn("flaky") + ":$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 2,
    }
    assert document["requestPayload"] == {"order": 42}
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert document["responsePayload"]["errorType"] == "RuntimeError"
    assert len(deliveries(record)) == 2
    queue = running_platform.platform.asyncq
    wait_for(lambda: not queue.pending(), what="the queue to empty")
    # Sent to the destination, so not a dead letter as well.
    assert queue.dead_letters() == []


def test_success_records_go_to_the_on_success_function(lambda_client, tmp_path):
    deploy_flaky(lambda_client, "works", tmp_path)
    sink = deploy_sink(lambda_client, "successes", tmp_path)
    lambda_client.put_function_event_invoke_config(
        FunctionName="works",
        DestinationConfig={"OnSuccess": {"Destination": arn("successes")}},
    )
    request_id = send(lambda_client, "works", {"n": 7})
    (document,) = wait_for(lambda: received(sink), what="the success record")
    assert document["requestContext"]["condition"] == "Success"
    assert document["requestContext"]["requestId"] == request_id
    assert document["requestContext"]["approximateInvokeCount"] == 1
    assert document["responsePayload"] == {"echo": {"n": 7}}
    assert "functionError" not in document["responseContext"]


def test_configs_apply_per_qualifier(running_platform, lambda_client, tmp_path):
    _record, fail = deploy_flaky(lambda_client, "flaky", tmp_path)
    fail.touch()
    version = lambda_client.publish_version(FunctionName="flaky")["Version"]
    lambda_client.create_alias(FunctionName="flaky", Name="live", FunctionVersion=version)
    lambda_client.put_function_event_invoke_config(
        FunctionName="flaky", Qualifier="live", MaximumRetryAttempts=0
    )
    queue = running_platform.platform.asyncq
    response = lambda_client.invoke(
        FunctionName="flaky", Qualifier="live", InvocationType="Event", Payload=b"{}"
    )
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    (letter,) = wait_for(queue.dead_letters, what="the dead letter")
    assert (letter["request_id"], letter["qualifier"], letter["attempts"]) == (
        request_id, "live", 1,
    )  # fmt: skip


def test_dead_letters_are_listed_redriven_and_discarded_over_http(
    running_platform, lambda_client, tmp_path
):
    record, fail = deploy_flaky(lambda_client, "flaky", tmp_path)
    fail.touch()
    lambda_client.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=0)
    first = send(lambda_client, "flaky", {"n": 1})
    second = send(lambda_client, "flaky", {"n": 2})
    queue = running_platform.platform.asyncq
    wait_for(lambda: len(queue.dead_letters()) == 2, what="two dead letters")

    def call(method: str, query: str = "") -> dict:
        request = running_platform.request("/strum/v1/events/dead" + query, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    listed = call("GET", "?function=flaky")["dead_letters"]
    assert {letter["request_id"] for letter in listed} == {first, second}
    assert call("GET", "?function=someone-else")["dead_letters"] == []
    # Fixed: redrive one of them; it is delivered again and succeeds.
    fail.unlink()
    assert call("POST", f"/redrive?request_id={first}") == {"redriven": [first]}
    wait_for(lambda: [rid for rid, _ in deliveries(record)].count(first) == 2, what="the redrive")
    wait_for(lambda: not queue.pending(), what="the queue to empty")
    assert [letter["request_id"] for letter in queue.dead_letters()] == [second]
    assert call("DELETE", f"?request_id={second}") == {"discarded": 1}
    assert queue.dead_letters() == []
