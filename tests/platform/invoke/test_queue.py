"""The async queue on a real platform: Event invocations, retries, dead letters, durability.

Functions record each delivery (request id, attempt time) in a file the test names through
an environment variable; ``conftest`` starts platforms with ``retry_delay_scale=0.001``, so
AWS's 1 and 2 minute retry delays take 60 and 120 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strum.platform.home import Home
from strum.platform.invoke import RetryPolicy
from tests.platform.conftest import start_platform
from tests.platform.packages import ROLE, make_zip

# Appends "<request id> <time>" to $RECORD; fails when the event asks for it; with
# {"hold": true} the first delivery blocks until the platform that started it stops or dies.
RECORDER = """
import json, os, signal, time

def handler(event, context):
    record = os.environ["RECORD"]
    previous = open(record).read().split() if os.path.exists(record) else []
    with open(record, "a") as file:
        file.write(f"{context.aws_request_id} {time.time()}\\n")
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("hold") and context.aws_request_id not in previous:
        # Gone at once when the platform stops it, or when the platform itself is killed.
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        parent = os.getppid()
        deadline = time.monotonic() + 60
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(0.02)
        os._exit(0)
    return {"ok": True}
"""


def deploy(client, name: str, record: Path) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": textwrap.dedent(RECORDER)})},
        Environment={"Variables": {"RECORD": str(record)}},
        Timeout=60,
    )


def send(client, name: str, event: dict) -> str:
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event))
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def deliveries(record: Path) -> list[tuple[str, float]]:
    if not record.exists():
        return []
    lines = [line.split() for line in record.read_text().splitlines() if line.strip()]
    return [(request_id, float(at)) for request_id, at in lines]


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def queued_rows(home: Path) -> list[sqlite3.Row]:
    """The queue's rows as another process would read them (committed data only)."""
    db = sqlite3.connect(Home(home).queue_db)
    try:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT request_id, state, attempts, throttles FROM events").fetchall()
    finally:
        db.close()


def test_an_event_is_delivered_once_with_its_request_id(running_platform, lambda_client, tmp_path):
    record = tmp_path / "record"
    deploy(lambda_client, "rec", record)
    request_id = send(lambda_client, "rec", {"n": 1})
    got = wait_for(lambda: deliveries(record), what="the delivery")
    assert [rid for rid, _ in got] == [request_id]
    wait_for(lambda: not running_platform.platform.asyncq.pending(), what="the queue to empty")
    assert running_platform.platform.asyncq.dead_letters() == []
    assert [rid for rid, _ in deliveries(record)] == [request_id]


def test_function_errors_are_retried_twice_then_dead_lettered(tmp_path):
    # AWS's delays (60 s, then 120 s) times 0.004: 240 ms and 480 ms.
    running = start_platform(tmp_path / "home", retry_delay_scale=0.004)
    try:
        client = running.client()
        record = tmp_path / "record"
        deploy(client, "failing", record)
        request_id = send(client, "failing", {"fail": True})
        queue = running.platform.asyncq
        letters = wait_for(queue.dead_letters, what="the dead letter")
        got = deliveries(record)
        assert [rid for rid, _ in got] == [request_id] * 3
        first_gap, second_gap = got[1][1] - got[0][1], got[2][1] - got[1][1]
        assert 0.24 <= first_gap < 0.24 + 5
        assert 0.48 <= second_gap < 0.48 + 5
        (letter,) = letters
        assert letter["request_id"] == request_id
        assert (letter["reason"], letter["attempts"]) == ("RetriesExhausted", 3)
        assert json.loads(letter["error"])["errorType"] == "ValueError"
        assert json.loads(letter["payload"]) == {"fail": True}
        assert queue.pending() == []
    finally:
        running.stop()


def test_throttled_events_wait_until_the_function_may_run(
    running_platform, lambda_client, tmp_path
):
    record = tmp_path / "record"
    deploy(lambda_client, "held", record)
    lambda_client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    request_id = send(lambda_client, "held", {})
    home = running_platform.platform.home.root
    # Acknowledged means committed: another connection sees the row.
    assert [row["request_id"] for row in queued_rows(home)] == [request_id]
    wait_for(lambda: queued_rows(home)[0]["throttles"] >= 3, what="throttled retries")
    assert deliveries(record) == []
    lambda_client.delete_function_concurrency(FunctionName="held")
    got = wait_for(lambda: deliveries(record), what="the delivery after the throttle")
    assert [rid for rid, _ in got] == [request_id]
    assert running_platform.platform.asyncq.dead_letters() == []


def test_events_older_than_the_maximum_age_are_dead_lettered(
    running_platform, lambda_client, tmp_path
):
    deploy(lambda_client, "aged", tmp_path / "record")
    lambda_client.put_function_concurrency(FunctionName="aged", ReservedConcurrentExecutions=0)
    queue = running_platform.platform.asyncq
    # AWS's minimum age, 60 s, is 60 ms at the test scale of 0.001.
    lambda_client.put_function_event_invoke_config(FunctionName="aged", MaximumEventAgeInSeconds=60)
    assert queue.policy_for("aged", None) == RetryPolicy(max_event_age_s=60)
    request_id = send(lambda_client, "aged", {})
    (letter,) = wait_for(queue.dead_letters, what="the dead letter")
    assert (letter["request_id"], letter["reason"]) == (request_id, "EventAgeExceeded")


def test_an_event_in_flight_at_a_stop_is_delivered_after_the_restart(tmp_path):
    home, record = tmp_path / "home", tmp_path / "record"
    running = start_platform(home)
    try:
        deploy(running.client(), "slow", record)
        request_id = send(running.client(), "slow", {"hold": True})
        wait_for(lambda: deliveries(record), what="the first delivery to start")
    finally:
        running.stop()  # stops without finishing the delivery
    assert [(row["request_id"], row["state"]) for row in queued_rows(home)] == [
        (request_id, "inflight")
    ]
    running = start_platform(home)
    try:
        got = wait_for(lambda: len(deliveries(record)) == 2 and deliveries(record))
        assert [rid for rid, _ in got] == [request_id, request_id]
        wait_for(lambda: not running.platform.asyncq.pending(), what="the queue to empty")
    finally:
        running.stop()


PLATFORM_PROCESS = """
import asyncio, sys
from pathlib import Path
from strum.platform.home import Home
from strum.platform import Settings, serve

asyncio.run(serve(Home(Path(sys.argv[1])), Settings(port=0, retry_delay_scale=0.001, sandbox=False)))
"""


@contextlib.contextmanager
def killed_at_exit(home: Path) -> Iterator[Any]:
    """A platform process on ``home`` and a boto3 client for it; on leaving, the platform's
    process group (the platform and its function processes) is killed with SIGKILL."""
    process = subprocess.Popen(
        [sys.executable, "-c", PLATFORM_PROCESS, str(home)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        address = Home(home).address_file
        wait_for(address.exists, what="the platform to start")
        endpoint = json.loads(address.read_text())["endpoint"]
        import boto3
        from botocore.config import Config

        from strum.platform.identity import owner_key

        owner = owner_key(Home(home).keys_file)
        client = boto3.client(
            "lambda", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=owner.access_key_id, aws_secret_access_key=owner.secret,
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        try:
            yield client
        finally:
            client.close()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and SIGKILL as on Linux")
def test_an_event_in_flight_survives_kill_9(tmp_path):
    home, record = tmp_path / "home", tmp_path / "record"
    with killed_at_exit(home) as client:
        deploy(client, "victim", record)
        request_id = send(client, "victim", {"hold": True})
        wait_for(lambda: deliveries(record), what="the first delivery to start")
    running = start_platform(home)
    try:
        got = wait_for(lambda: len(deliveries(record)) == 2 and deliveries(record))
        assert [rid for rid, _ in got] == [request_id, request_id]
        wait_for(lambda: not running.platform.asyncq.pending(), what="the queue to empty")
        assert running.platform.asyncq.dead_letters() == []
    finally:
        running.stop()


# Records each delivery, then takes a few milliseconds, so a backlog builds up.
STEADY = """
import os, time

def handler(event, context):
    fd = os.open(os.environ["RECORD"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{context.aws_request_id} {time.time()}\\n".encode())
    os.close(fd)
    time.sleep(0.02)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and SIGKILL as on Linux")
def test_hundreds_of_queued_events_survive_kill_9_with_duplicates_only_in_flight(tmp_path):
    home, record = tmp_path / "home", tmp_path / "record"
    acknowledged: list[str] = []
    with killed_at_exit(home) as client:
        client.create_function(
            FunctionName="steady", Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": textwrap.dedent(STEADY)})},
            Environment={"Variables": {"RECORD": str(record)}},
        )  # fmt: skip
        # One instance at a time: deliveries fall behind the sends, so hundreds wait.
        client.put_function_concurrency(FunctionName="steady", ReservedConcurrentExecutions=1)
        for n in range(300):
            acknowledged.append(send(client, "steady", {"n": n}))
        wait_for(lambda: len(deliveries(record)) >= 30, what="deliveries to be under way")
    rows = queued_rows(home)
    in_flight = {row["request_id"] for row in rows if row["state"] == "inflight"}
    delivered_before = {rid for rid, _ in deliveries(record)}
    # Every acknowledged event is either delivered or still in the queue.
    assert set(acknowledged) == delivered_before | {row["request_id"] for row in rows}
    assert len(rows) >= 100, "the kill should leave a backlog behind"
    running = start_platform(home)
    try:
        running.client().delete_function_concurrency(FunctionName="steady")
        wait_for(lambda: not running.platform.asyncq.pending(), what="the queue to drain")
        got = [rid for rid, _ in deliveries(record)]
        assert set(got) == set(acknowledged)  # none lost
        duplicates = {rid for rid in got if got.count(rid) > 1}
        assert duplicates <= in_flight  # delivered twice only if in flight at the kill
        assert running.platform.asyncq.dead_letters() == []
    finally:
        running.stop()


def test_a_queue_from_before_scopes_gains_the_column_and_keeps_its_events(tmp_path: Path) -> None:
    from strum.platform.invoke.queue_db import connect

    path = tmp_path / "queue.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE events (request_id TEXT PRIMARY KEY, function_name TEXT NOT NULL, "
        "qualifier TEXT, payload BLOB NOT NULL, enqueued_at REAL NOT NULL, attempts INTEGER "
        "NOT NULL DEFAULT 0, throttles INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL, "
        "state TEXT NOT NULL DEFAULT 'ready', last_error TEXT);"
        "INSERT INTO events (request_id, function_name, payload, enqueued_at, due_at) "
        "VALUES ('r1', 'fn', x'7b7d', 1, 1);"
    )
    old.commit()
    old.close()
    db = connect(path, "FULL")
    try:
        rows = db.execute("SELECT request_id, scope FROM events").fetchall()
        assert [tuple(row) for row in rows] == [("r1", None)]
    finally:
        db.close()
