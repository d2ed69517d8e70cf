"""Durable functions on the platform, written with AWS's own SDK
(``aws-durable-execution-sdk-python``, staged for Python functions as AWS's runtimes carry
it) and driven through boto3: steps, waits, callbacks, retries, stop, and a wait that
outlives the platform."""

from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any

import pytest

from tests.platform.conftest import start_platform
from tests.platform.packages import create_function, make_zip

pytest.importorskip("aws_durable_execution_sdk_python")

# Two steps around a one-second wait; each step appends to a file on the host, so the test
# counts how often each ran (a step that succeeded is never run again on replay).
WORKFLOW = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration


def note(path, what):
    with open(path, "a") as out:
        out.write(what + "\n")


@durable_step
def charge(step_context, path, amount):
    note(path, "charge")
    return {"charged": amount}


@durable_step
def ship(step_context, path, order):
    note(path, "ship")
    return f"shipped {order}"


@durable_execution
def handler(event, context: DurableContext):
    path = event["log"]
    charged = context.step(charge(path, event["amount"]))
    context.wait(Duration.from_seconds(event.get("wait", 1)))
    shipped = context.step(ship(path, event["order"]))
    return {"charged": charged["charged"], "shipped": shipped}
"""

CALLBACK = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event, context: DurableContext):
    callback = context.create_callback(name="approval")
    with open(event["log"], "w") as out:
        out.write(callback.callback_id)
    return {"approved": callback.result()}
"""

RETRY = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy


@durable_step
def flaky(step_context, path):
    with open(path, "a") as out:
        out.write("try\n")
    with open(path) as seen:
        if len(seen.read().splitlines()) < 2:
            raise RuntimeError("not yet")
    return "done"


@durable_execution
def handler(event, context: DurableContext):
    retry = create_retry_strategy(RetryStrategyConfig(
        max_attempts=3, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE
    ))
    return context.step(flaky(event["log"]), config=StepConfig(retry_strategy=retry))
"""

DURABLE = {"ExecutionTimeout": 300, "RetentionPeriodInDays": 1}


def deploy(client: Any, name: str, source: str, **extra: Any) -> None:
    create_function(
        client,
        name,
        Code={"ZipFile": make_zip({"app.py": source})},
        Timeout=30,
        DurableConfig=DURABLE,
        **extra,
    )


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def history(client: Any, arn: str) -> list[dict[str, Any]]:
    return client.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)[
        "Events"
    ]


def test_durable_config_is_kept_and_answered(lambda_client):
    deploy(lambda_client, "cfg", WORKFLOW)
    config = lambda_client.get_function_configuration(FunctionName="cfg")
    assert config["DurableConfig"] == DURABLE
    lambda_client.update_function_configuration(
        FunctionName="cfg", DurableConfig={"ExecutionTimeout": 60}
    )
    config = lambda_client.get_function_configuration(FunctionName="cfg")
    # RetentionPeriodInDays defaults to 14 (AWS::Lambda::Function DurableConfig).
    assert config["DurableConfig"] == {"ExecutionTimeout": 60, "RetentionPeriodInDays": 14}


def test_steps_and_a_wait_complete_with_the_result(lambda_client, tmp_path):
    deploy(lambda_client, "order", WORKFLOW, Publish=True)
    log = tmp_path / "steps.log"
    started = time.monotonic()
    response = lambda_client.invoke(
        FunctionName="order:1",
        Payload=json.dumps({"log": str(log), "amount": 42, "order": "A-1"}).encode(),
    )
    assert time.monotonic() - started >= 1.0  # the wait was real
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()) == {"charged": 42, "shipped": "shipped A-1"}
    # Each step ran once, though the function ran twice (before and after the wait).
    assert log.read_text().splitlines() == ["charge", "ship"]
    arn = response["DurableExecutionArn"]
    assert arn.startswith(
        "arn:aws:lambda:us-east-1:000000000000:function:order:1/durable-execution/"
    )
    execution = lambda_client.get_durable_execution(
        DurableExecutionArn=arn, IncludeExecutionData=True
    )
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"]) == {"charged": 42, "shipped": "shipped A-1"}
    assert execution["FunctionArn"].endswith(":function:order:1")
    events = history(lambda_client, arn)
    kinds = [event["EventType"] for event in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    steps = [event["Name"] for event in events if event["EventType"] == "StepSucceeded"]
    assert steps == ["charge", "ship"]
    assert "WaitStarted" in kinds and "WaitSucceeded" in kinds
    assert [event["EventId"] for event in events] == list(range(1, len(events) + 1))
    listed = lambda_client.list_durable_executions_by_function(FunctionName="order")
    assert [item["DurableExecutionArn"] for item in listed["DurableExecutions"]] == [arn]
    assert listed["DurableExecutions"][0]["Status"] == "SUCCEEDED"


def test_a_callback_completed_from_boto3(lambda_client, tmp_path):
    deploy(lambda_client, "approve", CALLBACK)
    log = tmp_path / "callback.id"
    response = lambda_client.invoke(
        FunctionName="approve",
        InvocationType="Event",
        Payload=json.dumps({"log": str(log)}).encode(),
    )
    assert response["StatusCode"] == 202
    arn = response["DurableExecutionArn"]
    callback_id = wait_for(lambda: log.exists() and log.read_text())
    wait_for(
        lambda: any(
            e["EventType"] == "InvocationCompleted" or e["EventType"] == "CallbackStarted"
            for e in history(lambda_client, arn)
        )
    )
    assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    # The SDK hands a callback's result over as sent (its default serdes passes it through).
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"yes")
    done = wait_for(
        lambda: (
            (
                found := lambda_client.get_durable_execution(
                    DurableExecutionArn=arn, IncludeExecutionData=True
                )
            )["Status"]
            != "RUNNING"
            and found
        )
    )
    assert done["Status"] == "SUCCEEDED"
    assert json.loads(done["Result"]) == {"approved": "yes"}
    # A second answer for a finished callback is refused.
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"1")


def test_a_callback_failure_fails_the_execution(lambda_client, tmp_path):
    deploy(lambda_client, "reject", CALLBACK)
    log = tmp_path / "callback.id"
    response = lambda_client.invoke(
        FunctionName="reject",
        InvocationType="Event",
        Payload=json.dumps({"log": str(log)}).encode(),
    )
    callback_id = wait_for(lambda: log.exists() and log.read_text())
    lambda_client.send_durable_execution_callback_failure(
        CallbackId=callback_id, Error={"ErrorType": "Rejected", "ErrorMessage": "no"}
    )
    arn = response["DurableExecutionArn"]
    done = wait_for(
        lambda: (
            (found := lambda_client.get_durable_execution(DurableExecutionArn=arn))["Status"]
            != "RUNNING"
            and found
        )
    )
    assert done["Status"] == "FAILED"
    assert "no" in done["Error"]["ErrorMessage"]


def test_a_step_that_raises_succeeds_on_retry(lambda_client, tmp_path):
    deploy(lambda_client, "flaky", RETRY)
    log = tmp_path / "tries.log"
    response = lambda_client.invoke(
        FunctionName="flaky", Payload=json.dumps({"log": str(log)}).encode()
    )
    assert json.loads(response["Payload"].read()) == "done"
    assert log.read_text().splitlines() == ["try", "try"]
    events = history(lambda_client, response["DurableExecutionArn"])
    failed = [e for e in events if e["EventType"] == "StepFailed"]
    assert failed[0]["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"] == 1
    succeeded = [e for e in events if e["EventType"] == "StepSucceeded"]
    assert succeeded[0]["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"] == 2


def test_stop_ends_a_waiting_execution(lambda_client, tmp_path):
    deploy(lambda_client, "stoppable", WORKFLOW)
    log = tmp_path / "steps.log"
    response = lambda_client.invoke(
        FunctionName="stoppable",
        InvocationType="Event",
        Payload=json.dumps({"log": str(log), "amount": 1, "order": "B", "wait": 600}).encode(),
    )
    arn = response["DurableExecutionArn"]
    wait_for(lambda: any(e["EventType"] == "WaitStarted" for e in history(lambda_client, arn)))
    stopped = lambda_client.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Cancelled", "ErrorMessage": "by test"}
    )
    assert stopped["StopTimestamp"]
    execution = lambda_client.get_durable_execution(DurableExecutionArn=arn)
    assert execution["Status"] == "STOPPED"
    assert history(lambda_client, arn)[-1]["EventType"] == "ExecutionStopped"
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.stop_durable_execution(DurableExecutionArn=arn)
    assert log.read_text().splitlines() == ["charge"]
    listed = lambda_client.list_durable_executions_by_function(
        FunctionName="stoppable", Statuses=["RUNNING"]
    )
    assert listed["DurableExecutions"] == []


def test_a_stale_checkpoint_token_is_refused(lambda_client, tmp_path):
    deploy(lambda_client, "stale", WORKFLOW)
    response = lambda_client.invoke(
        FunctionName="stale",
        Payload=json.dumps({"log": str(tmp_path / "l"), "amount": 1, "order": "C"}).encode(),
    )
    arn = response["DurableExecutionArn"]
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="token"):
        lambda_client.checkpoint_durable_execution(DurableExecutionArn=arn, CheckpointToken="AAAA")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_durable_execution(DurableExecutionArn=arn[:-4] + "beef")


def test_a_wait_spans_a_platform_restart(tmp_path):
    home = tmp_path / "strum-home"
    running = start_platform(home)
    log = tmp_path / "steps.log"
    try:
        client = running.client()
        deploy(client, "survivor", WORKFLOW)
        response = client.invoke(
            FunctionName="survivor",
            InvocationType="Event",
            Payload=json.dumps({"log": str(log), "amount": 7, "order": "R", "wait": 2}).encode(),
        )
        arn = response["DurableExecutionArn"]
        wait_for(lambda: any(e["EventType"] == "WaitStarted" for e in history(client, arn)))
    finally:
        running.stop()
    running = start_platform(home)
    try:
        client = running.client()
        done = wait_for(
            lambda: (
                (
                    found := client.get_durable_execution(
                        DurableExecutionArn=arn, IncludeExecutionData=True
                    )
                )["Status"]
                != "RUNNING"
                and found
            )
        )
        assert done["Status"] == "SUCCEEDED"
        assert json.loads(done["Result"]) == {"charged": 7, "shipped": "shipped R"}
        assert log.read_text().splitlines() == ["charge", "ship"]
    finally:
        running.stop()


SANDBOXED = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event, context: DurableContext):
    first = context.step(lambda _: event["n"] + 1, name="add")
    context.wait(Duration.from_seconds(1))
    return context.step(lambda _: first * 10, name="times")
"""


def test_a_sandboxed_durable_function_checkpoints_through_its_own_listener(tmp_path):
    from strum.platform import sandbox

    if sandbox.probe().bwrap is None:
        pytest.skip("no sandbox here")
    running = start_platform(tmp_path / "strum-home", sandbox=True)
    try:
        client = running.client()
        deploy(client, "boxed", SANDBOXED)
        response = client.invoke(FunctionName="boxed", Payload=b'{"n": 4}')
        assert "FunctionError" not in response, response["Payload"].read()
        assert json.loads(response["Payload"].read()) == 50
        names = [
            e.get("Name")
            for e in history(client, response["DurableExecutionArn"])
            if e["EventType"] == "StepSucceeded"
        ]
        assert names == ["add", "times"]
    finally:
        running.stop()


def test_an_execution_times_out_after_its_execution_timeout(lambda_client, tmp_path):
    create_function(
        lambda_client,
        "slow",
        Code={"ZipFile": make_zip({"app.py": WORKFLOW})},
        Timeout=30,
        DurableConfig={"ExecutionTimeout": 2},
    )
    payload = {"log": str(tmp_path / "l"), "amount": 1, "order": "T", "wait": 600}
    response = lambda_client.invoke(FunctionName="slow", Payload=json.dumps(payload).encode())
    assert response["FunctionError"] == "Unhandled"
    arn = response["DurableExecutionArn"]
    execution = lambda_client.get_durable_execution(DurableExecutionArn=arn)
    assert execution["Status"] == "TIMED_OUT"
    assert history(lambda_client, arn)[-1]["EventType"] == "ExecutionTimedOut"


def test_a_function_that_keeps_crashing_fails_its_execution(lambda_client):
    crash = "def handler(event, context):\n    raise RuntimeError('boom')\n"
    deploy(lambda_client, "crasher", crash)
    response = lambda_client.invoke(FunctionName="crasher", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorMessage"] == "boom"
    arn = response["DurableExecutionArn"]
    execution = lambda_client.get_durable_execution(DurableExecutionArn=arn)
    assert execution["Status"] == "FAILED"
    invocations = [
        e for e in history(lambda_client, arn) if e["EventType"] == "InvocationCompleted"
    ]
    assert len(invocations) == 4  # the first, then three retries


def test_an_execution_name_starts_one_execution(lambda_client, tmp_path):
    deploy(lambda_client, "named", CALLBACK)
    payload = json.dumps({"log": str(tmp_path / "id")}).encode()
    first = lambda_client.invoke(
        FunctionName="named",
        InvocationType="Event",
        DurableExecutionName="order-7",
        Payload=payload,
    )
    again = lambda_client.invoke(
        FunctionName="named",
        InvocationType="Event",
        DurableExecutionName="order-7",
        Payload=payload,
    )
    assert first["DurableExecutionArn"] == again["DurableExecutionArn"]
    assert "/durable-execution/order-7/" in first["DurableExecutionArn"]
    listed = lambda_client.list_durable_executions_by_function(
        FunctionName="named", DurableExecutionName="order-7"
    )
    assert len(listed["DurableExecutions"]) == 1


MAP = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, MapConfig


def square(context, item, index, items):
    return context.step(lambda _: item * item, name=f"square-{index}")


@durable_execution
def handler(event, context: DurableContext):
    squares = context.map(
        list(range(event["n"])), square, name="squares", config=MapConfig(max_concurrency=10)
    )
    waited = context.parallel(
        [
            lambda child: (child.wait(Duration.from_seconds(1)), "slow")[1],
            lambda child: child.step(lambda _: "fast", name="fast"),
        ],
        name="both",
    )
    return {"sum": sum(squares.get_results()), "parallel": waited.get_results()}
"""


def test_map_over_a_hundred_items_and_parallel_branches(lambda_client):
    # Each branch runs on a thread of its own: more address space than 128 MB gives.
    deploy(lambda_client, "mapper", MAP, MemorySize=1024)
    response = lambda_client.invoke(FunctionName="mapper", Payload=b'{"n": 100}')
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()) == {
        "sum": sum(i * i for i in range(100)),
        "parallel": ["slow", "fast"],
    }
    events = history(lambda_client, response["DurableExecutionArn"])
    steps = [e for e in events if e["EventType"] == "StepSucceeded"]
    assert len(steps) == 101


# AWS's runner leaves an event loop and its sockets for the garbage collector: collected
# within this test (below), so that their warnings are this test's and not a later one's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_same_workflow_gives_the_same_result_under_awss_local_runner(lambda_client, tmp_path):
    # AWS's testing SDK runs the handler in-process against its emulated service; the
    # platform runs it for real. Same workflow, same input: same result, same steps.
    testing = pytest.importorskip("aws_durable_execution_sdk_python_testing")
    # Imported now, not first from the runner's threads: CPython 3.11 can fail two compiles at
    # once ("AST constructor recursion depth mismatch") and pytest rewrites what it imports.
    import hypothesis  # noqa: F401

    payload = {"log": str(tmp_path / "peer.log"), "amount": 5, "order": "P", "wait": 1}
    namespace: dict[str, Any] = {}
    exec(compile(WORKFLOW, "workflow.py", "exec"), namespace)  # the workflow, our own source
    with testing.DurableFunctionTestRunner(handler=namespace["handler"]) as runner:
        peer = runner.run(input=json.dumps(payload), execution_timeout=60)
    del runner
    gc.collect()
    deploy(lambda_client, "peer", WORKFLOW)
    ours = lambda_client.invoke(FunctionName="peer", Payload=json.dumps(payload).encode())
    assert json.loads(ours["Payload"].read()) == json.loads(peer.result)
    peer_steps = [op.name for op in peer.operations if type(op).__name__ == "StepOperation"]
    our_steps = [
        e["Name"]
        for e in history(lambda_client, ours["DurableExecutionArn"])
        if e["EventType"] == "StepSucceeded"
    ]
    assert our_steps == peer_steps == ["charge", "ship"]


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and SIGKILL as on Linux")
def test_a_wait_survives_kill_9_of_the_platform(tmp_path):
    from tests.platform.invoke.test_queue import killed_at_exit

    home, log = tmp_path / "strum-home", tmp_path / "steps.log"
    with killed_at_exit(home) as client:
        deploy(client, "hardy", WORKFLOW)
        payload = {"log": str(log), "amount": 3, "order": "K", "wait": 2}
        response = client.invoke(
            FunctionName="hardy", InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        arn = response["DurableExecutionArn"]
        wait_for(lambda: any(e["EventType"] == "WaitStarted" for e in history(client, arn)))
    running = start_platform(home)
    try:
        client = running.client()
        done = wait_for(
            lambda: (
                (found := client.get_durable_execution(
                    DurableExecutionArn=arn, IncludeExecutionData=True
                ))["Status"] != "RUNNING"
                and found
            )
        )  # fmt: skip
        assert done["Status"] == "SUCCEEDED"
        assert json.loads(done["Result"]) == {"charged": 3, "shipped": "shipped K"}
        assert log.read_text().splitlines() == ["charge", "ship"]  # each step once
    finally:
        running.stop()
