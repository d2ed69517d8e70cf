"""Provisioned concurrency through a real boto3 client: AWS's rules and errors, the status
going IN_PROGRESS -> READY (or FAILED with the reason), and the instances behind it - really
started, used first, kept from idle reaping, replaced when they die, provisioned again
after a restart ("Configuring provisioned concurrency", Lambda developer guide)."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import ROLE, make_zip

SOURCE = """
import os
if os.environ.get("BREAK_INIT"):
    raise RuntimeError("init is broken on purpose")

def handler(event, context):
    return {"pid": os.getpid(), "version": context.function_version,
            "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
"""


def deploy(client, name: str = "warm", **environment: str) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SOURCE})},
        Environment={"Variables": environment},
        Publish=True,
    )


def invoke(client, name: str, qualifier: str, **fields: Any) -> dict[str, Any]:
    answer = client.invoke(FunctionName=name, Qualifier=qualifier, **fields)
    answer["Body"] = json.loads(answer["Payload"].read())
    return answer


def until(check, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def config(client, name: str, qualifier: str) -> dict[str, Any]:
    answer = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
    answer.pop("ResponseMetadata")
    return answer


def ready(client, name: str, qualifier: str) -> dict[str, Any]:
    return until(
        lambda: (found := config(client, name, qualifier))["Status"] == "READY" and found,
        what=f"{name}:{qualifier} to be READY",
    )


def engine_counts(running: RunningPlatform, name: str) -> dict[str, dict[str, int]]:
    async def read() -> dict[str, Any]:
        return running.platform.engine.status()["instances"]["functions"].get(name, {})

    return running.call(read())


def test_the_rules_and_errors_are_aws_s(tmp_path):
    running = start_platform(tmp_path / "home", max_concurrency=10)
    try:
        client = running.client()
        deploy(client)
        client.create_alias(FunctionName="warm", Name="live", FunctionVersion="1")
        errors = client.exceptions
        with pytest.raises(errors.InvalidParameterValueException) as excinfo:
            client.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
            )
        assert "unpublished function versions" in excinfo.value.response["Error"]["Message"]
        with pytest.raises(errors.ResourceNotFoundException):
            client.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="7", ProvisionedConcurrentExecutions=1
            )
        with pytest.raises(errors.ProvisionedConcurrencyConfigNotFoundException):
            client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        put = client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1
        )
        assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert put["RequestedProvisionedConcurrentExecutions"] == 1
        assert put["LastModified"]
        # An alias on a version provisioned on its own is a conflict.
        with pytest.raises(errors.ResourceConflictException):
            client.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="live", ProvisionedConcurrentExecutions=1
            )
        # Within the function's reserved concurrency ...
        client.put_function_concurrency(FunctionName="warm", ReservedConcurrentExecutions=2)
        with pytest.raises(errors.InvalidParameterValueException) as excinfo:
            client.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=3
            )
        assert "reservedConcurrentExecution" in excinfo.value.response["Error"]["Message"]
        with pytest.raises(errors.InvalidParameterValueException):
            client.put_function_concurrency(FunctionName="warm", ReservedConcurrentExecutions=0)
        # ... or, without one, the account's unreserved concurrency.
        client.delete_function_concurrency(FunctionName="warm")
        with pytest.raises(errors.InvalidParameterValueException) as excinfo:
            client.put_provisioned_concurrency_config(
                FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=11
            )
        assert "unreserved concurrency [10]" in excinfo.value.response["Error"]["Message"]
        # botocore checks the minimum of 1 itself; the platform does too.
        zero = running.request(
            "/2019-09-30/functions/warm/provisioned-concurrency?Qualifier=1",
            method="PUT",
            data=b'{"ProvisionedConcurrentExecutions": 0}',
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(zero, timeout=30)
        with refused.value:
            assert refused.value.headers["x-amzn-ErrorType"] == "ValidationException"
        listed = client.list_provisioned_concurrency_configs(FunctionName="warm")
        assert [item["FunctionArn"] for item in listed["ProvisionedConcurrencyConfigs"]] == [
            "arn:aws:lambda:us-east-1:000000000000:function:warm:1"
        ]
        client.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        with pytest.raises(errors.ProvisionedConcurrencyConfigNotFoundException):
            client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        assert (
            client.list_provisioned_concurrency_configs(FunctionName="warm")[
                "ProvisionedConcurrencyConfigs"
            ]
            == []
        )
    finally:
        running.stop()


def test_instances_are_started_used_first_kept_and_replaced(tmp_path):
    running = start_platform(tmp_path / "home", idle_timeout_s=0.3)
    try:
        client = running.client()
        deploy(client)
        client.create_alias(FunctionName="warm", Name="live", FunctionVersion="1")
        put = client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="live", ProvisionedConcurrentExecutions=2
        )
        assert put["Status"] == "IN_PROGRESS"
        status = ready(client, "warm", "live")
        assert status["AllocatedProvisionedConcurrentExecutions"] == 2
        assert status["AvailableProvisionedConcurrentExecutions"] == 2
        assert engine_counts(running, "warm")["1"]["idle"] == 2

        # Invocations use them: no cold start, so no Init Duration in REPORT.
        answer = invoke(client, "warm", "live", LogType="Tail")
        log = base64.b64decode(answer["LogResult"]).decode()
        assert "REPORT RequestId" in log and "Init Duration" not in log
        assert answer["Body"]["version"] == "1"
        assert answer["Body"]["init"] == "provisioned-concurrency"

        # An on-demand instance of $LATEST is reaped when idle; the provisioned ones stay.
        client.invoke(FunctionName="warm")["Payload"].read()
        until(lambda: "$LATEST" not in engine_counts(running, "warm"), what="idle reaping")
        assert engine_counts(running, "warm")["1"]["idle"] == 2

        # One that dies is replaced.
        pid = answer["Body"]["pid"]
        os.kill(pid, signal.SIGKILL)
        until(lambda: not _exists(pid), what="the process to be reaped")
        status = ready(client, "warm", "live")
        assert status["AllocatedProvisionedConcurrentExecutions"] == 2
        assert engine_counts(running, "warm")["1"]["idle"] == 2
        cold = running.platform.engine.status()["instances"]["cold_starts"]
        seen = {invoke(client, "warm", "live")["Body"]["pid"] for _ in range(4)}
        assert pid not in seen
        assert running.platform.engine.status()["instances"]["cold_starts"] == cold

        # The alias moves (a deploy): the provisioned instances follow it.
        client.publish_version(FunctionName="warm", Description="two")
        client.update_function_configuration(
            FunctionName="warm", Environment={"Variables": {"VERSION": "2"}}
        )
        until(
            lambda: (
                client.get_function_configuration(FunctionName="warm")["LastUpdateStatus"]
                == "Successful"
            )
        )
        two = client.publish_version(FunctionName="warm")["Version"]
        client.update_alias(FunctionName="warm", Name="live", FunctionVersion=two)
        until(
            lambda: engine_counts(running, "warm").get(two, {}).get("idle") == 2,
            what="the new version provisioned",
        )
        assert ready(client, "warm", "live")["AllocatedProvisionedConcurrentExecutions"] == 2

        client.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
        until(lambda: two not in engine_counts(running, "warm"), what="the surplus reaped")
    finally:
        running.stop()


def test_a_failing_init_is_failed_with_the_reason(lambda_client):
    deploy(lambda_client, "broken", BREAK_INIT="1")
    lambda_client.put_provisioned_concurrency_config(
        FunctionName="broken", Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    status = until(
        lambda: (found := config(lambda_client, "broken", "1"))["Status"] == "FAILED" and found,
        what="FAILED",
    )
    assert status["AllocatedProvisionedConcurrentExecutions"] == 0
    assert "init is broken on purpose" in status["StatusReason"]
    # Put again: it tries again (IN_PROGRESS), and fails again for the same reason.
    again = lambda_client.put_provisioned_concurrency_config(
        FunctionName="broken", Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    assert again["Status"] == "IN_PROGRESS"
    assert "StatusReason" not in again
    until(
        lambda: config(lambda_client, "broken", "1")["Status"] == "FAILED",
        what="FAILED again",
    )


def test_a_restart_provisions_again(tmp_path):
    home = tmp_path / "home"
    running = start_platform(home)
    try:
        client = running.client()
        deploy(client)
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1
        )
        ready(client, "warm", "1")
    finally:
        running.stop()
    running = start_platform(home)
    try:
        client = running.client()
        assert ready(client, "warm", "1")["AllocatedProvisionedConcurrentExecutions"] == 1
        assert engine_counts(running, "warm")["1"]["idle"] == 1
    finally:
        running.stop()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
