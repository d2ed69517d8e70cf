"""InvokeWithResponseStream and the deprecated InvokeAsync through a real boto3 client:
the event stream botocore reads (PayloadChunk events, then InvokeComplete), function
errors before and during the stream, log tails, and InvokeAsync queued like Event."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.platform.packages import ROLE, make_zip

STREAMING = """
import json, os, time
from strum.runtime.streaming import StreamingResponse

def handler(event, context):
    if event.get("buffered"):
        return {"plain": True}
    if event.get("raise"):
        raise KeyError("before the stream")
    gate = event.get("gate")

    def body():
        print("streaming for", context.aws_request_id)
        yield b"first;"
        if gate:
            deadline = time.monotonic() + 20
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.01)
        yield b"second;"
        if event.get("fail"):
            raise RuntimeError("failed mid-stream")
        yield b"third"
    return StreamingResponse("text/plain", body())
"""

RECORDER = """
import json, os

def handler(event, context):
    with open(event["path"], "w") as out:
        json.dump({"event": event, "id": context.aws_request_id}, out)
    return {}
"""


def deploy(client, name: str, source: str) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
    )


def events_of(answer) -> list[dict]:
    return list(answer["EventStream"])


def test_chunks_arrive_as_the_function_streams_them(lambda_client, tmp_path):
    deploy(lambda_client, "streamer", STREAMING)
    gate = tmp_path / "gate"
    answer = lambda_client.invoke_with_response_stream(
        FunctionName="streamer", Payload=json.dumps({"gate": str(gate)}).encode()
    )
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert answer["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    stream = iter(answer["EventStream"])
    # The first chunk is here while the function still waits for the gate.
    assert next(stream) == {"PayloadChunk": {"Payload": b"first;"}}
    gate.touch()
    rest = list(stream)
    # Chunks may coalesce on the way (as TCP segments do on AWS); their bytes may not.
    assert b"".join(event["PayloadChunk"]["Payload"] for event in rest[:-1]) == b"second;third"
    assert rest[-1] == {"InvokeComplete": {}}


def test_a_buffered_response_is_one_chunk(lambda_client):
    deploy(lambda_client, "plain", STREAMING)
    events = events_of(
        lambda_client.invoke_with_response_stream(
            FunctionName="plain", Payload=b'{"buffered": true}'
        )
    )
    assert events == [{"PayloadChunk": {"Payload": b'{"plain": true}'}}, {"InvokeComplete": {}}]


def test_a_failure_mid_stream_ends_with_its_error_and_the_log_tail(lambda_client):
    deploy(lambda_client, "breaks", STREAMING)
    answer = lambda_client.invoke_with_response_stream(
        FunctionName="breaks", Payload=b'{"fail": true}', LogType="Tail"
    )
    events = events_of(answer)
    chunks = [event["PayloadChunk"]["Payload"] for event in events if "PayloadChunk" in event]
    assert b"".join(chunks) == b"first;second;"
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "RuntimeError"
    assert "failed mid-stream" in complete["ErrorDetails"]
    log = base64.b64decode(complete["LogResult"]).decode()
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert f"streaming for {request_id}" in log
    assert f"END RequestId: {request_id}" in log


def test_an_error_before_the_stream_is_unhandled(lambda_client):
    deploy(lambda_client, "early", STREAMING)
    events = events_of(
        lambda_client.invoke_with_response_stream(
            FunctionName="early", Payload=b'{"raise": true}', LogType="Tail"
        )
    )
    assert len(events) == 1
    complete = events[0]["InvokeComplete"]
    assert complete["ErrorCode"] == "Unhandled"
    assert "before the stream" in complete["ErrorDetails"]
    assert "KeyError" in base64.b64decode(complete["LogResult"]).decode()


def test_front_end_checks_as_on_aws(lambda_client):
    deploy(lambda_client, "checked", STREAMING)
    dry = lambda_client.invoke_with_response_stream(FunctionName="checked", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    dry["EventStream"].close()  # an unread stream keeps its socket out of the pool
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke_with_response_stream(FunctionName="ghost")
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        lambda_client.invoke_with_response_stream(FunctionName="checked", InvocationType="Event")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke_with_response_stream(FunctionName="checked", Payload=b"not json")
    lambda_client.put_function_concurrency(FunctionName="checked", ReservedConcurrentExecutions=0)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException):
        lambda_client.invoke_with_response_stream(FunctionName="checked")


def test_invoke_async_queues_like_an_event(lambda_client, tmp_path):
    deploy(lambda_client, "queued", RECORDER)
    path = tmp_path / "seen.json"
    answer = lambda_client.invoke_async(
        FunctionName="queued", InvokeArgs=json.dumps({"path": str(path)}).encode()
    )
    assert answer["Status"] == 202
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    seen = json.loads(path.read_text())
    assert seen["event"] == {"path": str(path)}
    assert seen["id"] == answer["ResponseMetadata"]["RequestId"]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke_async(FunctionName="ghost", InvokeArgs=b"{}")
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke_async(FunctionName="queued", InvokeArgs=b"not json")
