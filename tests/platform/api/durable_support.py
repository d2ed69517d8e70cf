"""Durable executions for the conformance table: a waiting execution with a callback (made
with AWS's SDK), and an invocation held in flight, whose checkpoint token is good."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.platform.packages import create_function, make_zip

__all__ = ["callback_execution", "holding_invocation"]

_CALLBACK = r"""
import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event, context: DurableContext):
    callback = context.create_callback(name="answer", config=None)
    with open(event["out"] + ".part", "w") as out:
        out.write(callback.callback_id)
    os.replace(event["out"] + ".part", event["out"])
    return callback.result()
"""

# Not the SDK: writes what the platform handed it, and holds the invocation until told.
_HOLD = r"""
import json, os, time


def handler(event, context):
    with open(event_path() + ".part", "w") as out:
        json.dump(event, out)
    os.replace(event_path() + ".part", event_path() + ".event")
    deadline = time.monotonic() + 20
    while not os.path.exists(event_path() + ".release") and time.monotonic() < deadline:
        time.sleep(0.02)
    return {"Status": "PENDING"}


def event_path():
    return os.environ["HOLD_AT"]
"""

_DIR = Path(tempfile.mkdtemp(prefix="strum-durable-conformance-"))
_DURABLE = {"ExecutionTimeout": 600, "RetentionPeriodInDays": 1}


def _until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return found


def _deployed(client: Any, name: str, source: str, **extra: Any) -> None:
    try:
        client.get_function(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        create_function(
            client,
            name,
            Code={"ZipFile": make_zip({"app.py": source})},
            Timeout=30,
            DurableConfig=_DURABLE,
            **extra,
        )


def callback_execution(client: Any) -> tuple[str, str]:
    """A new execution waiting on a callback: its (ARN, callback id)."""
    _deployed(client, "durable-callback", _CALLBACK)
    out = _DIR / uuid.uuid4().hex
    response = client.invoke(
        FunctionName="durable-callback",
        InvocationType="Event",
        Payload=json.dumps({"out": str(out)}).encode(),
    )
    return response["DurableExecutionArn"], _until(lambda: out.exists() and out.read_text())


def holding_invocation(client: Any, use: Callable[[str, str], object]) -> object:
    """``use(arn, token)`` while an invocation of a new execution is in flight."""
    hold = _DIR / uuid.uuid4().hex
    name = f"durable-hold-{hold.name[:8]}"
    _deployed(client, name, _HOLD, Environment={"Variables": {"HOLD_AT": str(hold)}})
    client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    seen = Path(f"{hold}.event")
    event = json.loads(_until(lambda: seen.exists() and seen.read_text()))
    try:
        return use(event["DurableExecutionArn"], event["CheckpointToken"])
    finally:
        Path(f"{hold}.release").write_text("")
