"""Invoke through a real boto3 client: qualifiers and aliases, function errors, log tails,
invocation types, payload limits and throttles."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest

from tests.platform.conftest import start_platform
from tests.platform.packages import create_function, handler_zip


def invoke(client, name: str, event: object = None, **fields):
    if event is not None:
        fields["Payload"] = json.dumps(event).encode()
    answer = client.invoke(FunctionName=name, **fields)
    answer["Body"] = answer["Payload"].read()
    return answer


def test_request_response(lambda_client):
    create_function(lambda_client, "echo", Environment={"Variables": {"GREETING": "hi"}})
    answer = invoke(lambda_client, "echo", {"n": 1})
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert answer["ResponseMetadata"]["RequestId"]
    body = json.loads(answer["Body"])
    assert body["event"] == {"n": 1}
    assert body["greeting"] == "hi"
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:echo"
    assert json.loads(invoke(lambda_client, "echo")["Body"])["event"] == {}


def test_qualifiers_versions_and_weighted_aliases(lambda_client):
    create_function(lambda_client, "ver", mark="one", Publish=True)
    lambda_client.update_function_code(FunctionName="ver", ZipFile=handler_zip("two"))
    lambda_client.publish_version(FunctionName="ver")
    lambda_client.update_function_code(FunctionName="ver", ZipFile=handler_zip("three"))

    latest = invoke(lambda_client, "ver", {})
    assert json.loads(latest["Body"])["mark"] == "three"
    first = invoke(lambda_client, "ver", {}, Qualifier="1")
    assert (first["ExecutedVersion"], json.loads(first["Body"])["mark"]) == ("1", "one")
    second = invoke(lambda_client, "ver:2", {})
    assert (second["ExecutedVersion"], json.loads(second["Body"])["version"]) == ("2", "2")

    lambda_client.create_alias(
        FunctionName="ver",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = Counter(
        invoke(lambda_client, "ver", {}, Qualifier="live")["ExecutedVersion"] for _ in range(30)
    )
    assert set(seen) == {"1", "2"}

    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        invoke(lambda_client, "ver", {}, Qualifier="9")
    assert "function:ver:9" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        invoke(lambda_client, "ver", {}, Qualifier="nope")
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        invoke(lambda_client, "ver:1", {}, Qualifier="2")


def test_a_code_change_is_served_at_once(lambda_client):
    create_function(lambda_client, "swap", mark="old")
    assert json.loads(invoke(lambda_client, "swap", {})["Body"])["mark"] == "old"
    lambda_client.update_function_code(FunctionName="swap", ZipFile=handler_zip("new"))
    assert json.loads(invoke(lambda_client, "swap", {})["Body"])["mark"] == "new"
    lambda_client.update_function_configuration(
        FunctionName="swap", Environment={"Variables": {"GREETING": "changed"}}
    )
    assert json.loads(invoke(lambda_client, "swap", {})["Body"])["greeting"] == "changed"


def test_function_error_and_log_tail(lambda_client):
    create_function(lambda_client, "oops")
    failed = invoke(lambda_client, "oops", {"fail": True})
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Body"])
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"

    tailed = invoke(lambda_client, "oops", {"print": "line from the function"}, LogType="Tail")
    log = base64.b64decode(tailed["LogResult"]).decode()
    assert "line from the function" in log
    assert f"END RequestId: {tailed['ResponseMetadata']['RequestId']}" in log
    assert "LogResult" not in invoke(lambda_client, "oops", {})


def test_dry_run_and_event(lambda_client, running_platform):
    create_function(lambda_client, "types")
    # Invoke answers a streaming body: read it (``invoke``), or the connection stays out of
    # the pool and its socket is collected unclosed.
    dry = invoke(lambda_client, "types", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke(FunctionName="ghost", InvocationType="DryRun")
    queued = invoke(lambda_client, "types", {}, InvocationType="Event")
    assert queued["StatusCode"] == 202
    assert queued["ResponseMetadata"]["RequestId"]
    assert queued["Body"] == b""
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        lambda_client.invoke(FunctionName="types", InvocationType="Sometime")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_payload_limits(lambda_client):
    create_function(lambda_client, "big")
    too_big = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
    with pytest.raises(lambda_client.exceptions.RequestTooLargeException) as excinfo:
        lambda_client.invoke(FunctionName="big", Payload=too_big)
    assert "6291456" in excinfo.value.response["Error"]["Message"]
    over_async = b'"' + b"x" * (1024 * 1024) + b'"'
    with pytest.raises(lambda_client.exceptions.RequestTooLargeException) as excinfo:
        lambda_client.invoke(FunctionName="big", InvocationType="Event", Payload=over_async)
    assert "1048576" in excinfo.value.response["Error"]["Message"]
    near_limit = b'"' + b"y" * (1024 * 1024) + b'"'
    answer = invoke(lambda_client, "big", None, Payload=near_limit)
    assert json.loads(answer["Body"])["event"] == "y" * (1024 * 1024)


def test_invalid_payloads_and_client_context(lambda_client):
    create_function(lambda_client, "strict")
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException) as excinfo:
        lambda_client.invoke(FunctionName="strict", Payload=b"{not json")
    assert "Could not parse request body into json" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.invoke(FunctionName="strict", Payload=b"{}", ClientContext="%%%")
    assert "Client context" in excinfo.value.response["Error"]["Message"]
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    assert invoke(lambda_client, "strict", {}, ClientContext=context)["StatusCode"] == 200


def test_reserved_concurrency_zero_throttles(lambda_client):
    create_function(lambda_client, "held")
    lambda_client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as excinfo:
        lambda_client.invoke(FunctionName="held", Payload=b"{}")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert excinfo.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert excinfo.value.response["Error"]["Message"]
    lambda_client.delete_function_concurrency(FunctionName="held")
    assert invoke(lambda_client, "held", {})["StatusCode"] == 200


def test_invocable_after_a_restart(tmp_path):
    home = tmp_path / "home"
    first = start_platform(home)
    try:
        create_function(first.client(), "again", mark="kept", Publish=True)
        first.client().create_alias(FunctionName="again", Name="live", FunctionVersion="1")
    finally:
        first.stop()
    second = start_platform(home)
    try:
        answer = invoke(second.client(), "again", {}, Qualifier="live")
        assert answer["ExecutedVersion"] == "1"
        assert json.loads(answer["Body"])["mark"] == "kept"
    finally:
        second.stop()
