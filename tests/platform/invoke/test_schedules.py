"""Schedules on a real platform: payloads, at most once per tick across restarts, rules API.

The scheduler's clock is swapped for a ``FakeClock`` set far in the future (2100), so the
real clock a freshly started platform uses before the swap never finds a tick due; tests
move the fake clock and ``wake()`` the scheduler instead of waiting for minutes.
"""

from __future__ import annotations

import json
import logging
import textwrap
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import ROLE, make_zip

FUNCTION = "jobs-dev"
ALIAS = "dev"
START = datetime(2100, 1, 1, 0, 0, 30, tzinfo=timezone.utc)

RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["RECORD"], "a") as file:
        file.write(json.dumps(event) + "\\n")
    return {"ok": True}
"""


class FakeClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def deploy(running: RunningPlatform, record: Path) -> None:
    client = running.client()
    client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": textwrap.dedent(RECORDER)})},
        Environment={"Variables": {"RECORD": str(record)}},
        Publish=True,
    )
    client.create_alias(FunctionName=FUNCTION, Name=ALIAS, FunctionVersion="1")


def use_clock(running: RunningPlatform, clock: FakeClock) -> None:
    running.platform.scheduler.now = clock


def advance(running: RunningPlatform, clock: FakeClock, to: datetime) -> None:
    clock.moment = to
    running.platform.scheduler.wake()


def api(
    running: RunningPlatform, method: str, rules: list[dict[str, Any]] | None = None
) -> tuple[int, dict[str, Any]]:
    body = None if rules is None else json.dumps({"qualifier": ALIAS, "rules": rules}).encode()
    request = running.request(f"/strum/v1/schedules/{FUNCTION}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def events(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]


def wait_for_events(record: Path, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = events(record)
        if len(seen) >= count:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{count} event(s) expected, {len(events(record))} seen")


def drained(running: RunningPlatform, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while running.platform.asyncq.pending():
        assert time.monotonic() < deadline, "the async queue did not drain"
        time.sleep(0.02)


def test_a_due_rule_fires_a_scheduled_event(running_platform: RunningPlatform, tmp_path: Path):
    record = tmp_path / "record.jsonl"
    deploy(running_platform, record)
    clock = FakeClock(START)
    use_clock(running_platform, clock)
    status, body = api(
        running_platform, "PUT", [{"name": f"{FUNCTION}-tick", "expression": "rate(1 minute)"}]
    )
    assert status == 200
    assert body["rules"][0]["next"] == "2100-01-01T00:01:00Z"

    advance(running_platform, clock, START + timedelta(seconds=40))
    (event,) = wait_for_events(record, 1)

    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": "2100-01-01T00:01:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{FUNCTION}-tick"],
        "detail": {},
    }
    # The same tick again, however often the scheduler looks: nothing.
    assert running_platform.call(running_platform.platform.scheduler.fire_due()) == []
    _, body = api(running_platform, "GET")
    assert body["rules"][0]["next"] == "2100-01-01T00:02:00Z"


def test_missed_ticks_fire_once_and_never_again_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    home, record = tmp_path / "home", tmp_path / "record.jsonl"
    clock = FakeClock(START)
    first = start_platform(home)
    try:
        deploy(first, record)
        use_clock(first, clock)
        rules = [{"name": f"{FUNCTION}-tick", "expression": "rate(1 minute)"}]
        assert api(first, "PUT", rules)[0] == 200
        advance(first, clock, START + timedelta(seconds=40))  # the 00:01 tick
        wait_for_events(record, 1)
        drained(first)
    finally:
        first.stop()

    # Down from 00:01:10 to 00:05:10: the 00:02, 00:03, 00:04 and 00:05 ticks were missed.
    clock.moment = START + timedelta(minutes=4, seconds=40)
    with caplog.at_level(logging.WARNING, logger="strum.platform.invoke.schedules"):
        second = start_platform(home)
        try:
            use_clock(second, clock)
            second.platform.scheduler.wake()
            wait_for_events(record, 2)
            drained(second)
            assert second.call(second.platform.scheduler.fire_due()) == []
        finally:
            second.stop()
    assert [event["time"] for event in events(record)] == [
        "2100-01-01T00:01:00Z",
        "2100-01-01T00:05:00Z",
    ]
    assert "missed 4 ticks" in caplog.text

    # Another restart at the same moment: the 00:05 tick is recorded, so nothing fires.
    third = start_platform(home)
    try:
        use_clock(third, clock)
        assert third.call(third.platform.scheduler.fire_due()) == []
        assert third.platform.asyncq.pending() == []
    finally:
        third.stop()
    assert len(events(record)) == 2


def test_disabled_rules_do_not_fire(running_platform: RunningPlatform, tmp_path: Path):
    record = tmp_path / "record.jsonl"
    deploy(running_platform, record)
    clock = FakeClock(START)
    use_clock(running_platform, clock)
    rules = [
        {"name": f"{FUNCTION}-on", "expression": "rate(1 minute)", "enabled": True},
        {"name": f"{FUNCTION}-off", "expression": "rate(1 minute)", "enabled": False},
    ]
    _, body = api(running_platform, "PUT", rules)
    assert {rule["name"]: rule["next"] for rule in body["rules"]} == {
        f"{FUNCTION}-off": None,
        f"{FUNCTION}-on": "2100-01-01T00:01:00Z",
    }

    advance(running_platform, clock, START + timedelta(minutes=3))
    wait_for_events(record, 1)
    drained(running_platform)
    assert running_platform.call(running_platform.platform.scheduler.fire_due()) == []
    assert [event["resources"][0].rsplit("/", 1)[1] for event in events(record)] == [
        f"{FUNCTION}-on"
    ]


def test_a_bad_expression_is_refused_and_changes_nothing(
    running_platform: RunningPlatform, tmp_path: Path
):
    deploy(running_platform, tmp_path / "record.jsonl")
    good = [{"name": f"{FUNCTION}-tick", "expression": "cron(0 12 * * ? *)"}]
    assert api(running_platform, "PUT", good)[0] == 200

    status, body = api(
        running_platform, "PUT", [{"name": f"{FUNCTION}-bad", "expression": "rate(1 minutes)"}]
    )

    assert status == 400
    assert f"{FUNCTION}-bad" in body["message"]
    assert "rate(1 minutes)" in body["message"] or "singular" in body["message"]
    _, body = api(running_platform, "GET")
    assert [rule["name"] for rule in body["rules"]] == [f"{FUNCTION}-tick"]


def test_deleting_the_function_forgets_its_rules(running_platform: RunningPlatform, tmp_path: Path):
    deploy(running_platform, tmp_path / "record.jsonl")
    rules = [{"name": f"{FUNCTION}-tick", "expression": "rate(5 minutes)"}]
    assert api(running_platform, "PUT", rules)[0] == 200

    running_platform.client().delete_function(FunctionName=FUNCTION)

    assert api(running_platform, "GET") == (200, {"rules": []})
    assert api(running_platform, "PUT", rules)[0] == 404


def test_the_deploy_client_round_trips_rules(running_platform: RunningPlatform, tmp_path: Path):
    from strum.deploy.local import LambdaAPIError, PlatformLambdaAPI

    deploy(running_platform, tmp_path / "record.jsonl")
    client = PlatformLambdaAPI.for_home(running_platform.platform.home, running_platform.endpoint)
    try:
        rules = ((f"{FUNCTION}-tick", "rate(5 minutes)", True),)
        client.put_schedules(FUNCTION, ALIAS, rules)
        (stored,) = client.get_schedules(FUNCTION)
        assert (stored["name"], stored["expression"], stored["enabled"]) == rules[0]
        assert stored["qualifier"] == ALIAS
        with pytest.raises(LambdaAPIError) as caught:
            client.put_schedules(FUNCTION, ALIAS, ((f"{FUNCTION}-x", "cron(0 0 * * * *)", True),))
        assert caught.value.status == 400
        assert caught.value.code == "InvalidParameterValueException"
    finally:
        client.close()


def test_a_deploy_plan_syncs_rules_once(running_platform: RunningPlatform, tmp_path: Path):
    from contextlib import nullcontext

    from strum.deploy.local import (
        DesiredFunction,
        PlatformLambdaAPI,
        SyncSchedules,
        current_function,
        execute,
        plan_deploy,
    )

    deploy(running_platform, tmp_path / "record.jsonl")
    client = PlatformLambdaAPI.for_home(running_platform.platform.home, running_platform.endpoint)
    try:
        desired = DesiredFunction(
            name=FUNCTION,
            alias=ALIAS,
            runtime="python3.11",
            code_sha256="",
            zip_path=tmp_path / "unused.zip",
            schedules=((f"{FUNCTION}-nightly", "cron(0 3 * * ? *)", True),),
        )
        steps = plan_deploy(desired, current_function(client, FUNCTION, ALIAS))
        assert SyncSchedules(desired) in steps
        execute(client, [SyncSchedules(desired)], lambda _: nullcontext())

        current = current_function(client, FUNCTION, ALIAS)
        assert current.schedules == desired.schedules
        assert SyncSchedules(desired) not in plan_deploy(desired, current)
    finally:
        client.close()


def test_stop_ends_the_scheduler_even_when_a_wake_lands_with_the_cancel(tmp_path: Path):
    # On Python 3.11 a wait_for whose wait completes in the same loop step as the task's
    # cancellation can swallow the cancellation; the scheduler must stop all the same
    # (once, that left a platform's teardown waiting 30 s).
    import asyncio

    from strum.platform.invoke.schedules import Scheduler
    from strum.platform.settings import Settings

    async def rounds() -> None:
        for index in range(50):
            scheduler = Scheduler(tmp_path / f"rules-{index}.db", Settings(), invoker=None)  # type: ignore[arg-type]
            await scheduler.start()
            await asyncio.sleep(0)  # the loop is now waiting on the wake event
            scheduler.wake()
            await asyncio.wait_for(scheduler.stop(), timeout=5)

    asyncio.run(rounds())
