"""The deploy planner's schedule and async steps: each is planned only when it differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strum.deploy.local import CurrentFunction, DesiredFunction, SyncSchedules, plan_deploy
from strum.deploy.steps import SetEventInvokeConfig

SHA = "c2hhMjU2"
TICK = ("shop-dev-tick", "rate(5 minutes)", True)
NIGHTLY = ("shop-dev-nightly", "cron(0 3 * * ? *)", False)


def desired(**overrides: Any) -> DesiredFunction:
    fields: dict[str, Any] = {
        "name": "shop-dev",
        "alias": "dev",
        "runtime": "python3.11",
        "code_sha256": SHA,
        "zip_path": Path("shop.zip"),
        **overrides,
    }
    return DesiredFunction(**fields)


def deployed(target: DesiredFunction, **overrides: Any) -> CurrentFunction:
    """What the platform reports once ``target`` is fully deployed."""
    configuration = {
        "Runtime": target.runtime,
        "Handler": target.handler,
        "MemorySize": target.memory,
        "Timeout": target.timeout,
        "EphemeralStorage": {"Size": target.ephemeral_storage},
        "Environment": {"Variables": dict(target.environment)},
        "Description": target.description,
        "StrumPermissions": target.permissions_document(),
        "CodeSha256": target.code_sha256,
    }
    fields: dict[str, Any] = {
        "latest": configuration,
        "alias": {"Name": target.alias, "FunctionVersion": "1"},
        "aliased": configuration,
        "url": {"InvokeMode": target.invoke_mode},
        "schedules": target.schedules,
        "event_invoke": target.event_invoke,
        **overrides,
    }
    return CurrentFunction(**fields)


def test_rules_in_step_plan_nothing():
    target = desired(schedules=(TICK, NIGHTLY))
    assert plan_deploy(target, deployed(target, schedules=(NIGHTLY, TICK))) == []


def test_changed_rules_are_synced_after_the_alias_moves():
    target = desired(schedules=(TICK,))
    current = deployed(target, schedules=(("shop-dev-tick", "rate(1 minute)", True),))

    assert plan_deploy(target, current) == [SyncSchedules(target)]

    fresh = plan_deploy(target, CurrentFunction())
    assert fresh[-1] == SyncSchedules(target)
    assert fresh[-1].describe() == "set 1 schedule(s) of shop-dev:dev"


def test_a_disabled_rule_is_a_change():
    target = desired(schedules=(TICK,))
    current = deployed(target, schedules=(("shop-dev-tick", "rate(5 minutes)", False),))
    assert plan_deploy(target, current) == [SyncSchedules(target)]


def test_rules_removed_from_the_config_are_removed():
    target = desired()
    steps = plan_deploy(target, deployed(target, schedules=(TICK,)))
    assert steps == [SyncSchedules(target)]
    assert steps[0].describe() == "remove the schedules of shop-dev"


def test_no_schedules_anywhere_plans_no_step():
    target = desired()
    assert not any(
        isinstance(step, SyncSchedules) for step in plan_deploy(target, CurrentFunction())
    )


FAILURES = "arn:aws:lambda:us-east-1:000000000000:function:failures"


def test_async_settings_in_step_plan_nothing():
    target = desired(event_invoke=(0, 3600, None, FAILURES))
    assert plan_deploy(target, deployed(target)) == []


def test_changed_async_settings_are_set_before_the_schedules():
    target = desired(event_invoke=(1, 21600, None, FAILURES), schedules=(TICK,))
    steps = plan_deploy(target, deployed(target, event_invoke=None, schedules=()))
    assert steps == [SetEventInvokeConfig(target), SyncSchedules(target)]
    assert steps[0].describe() == (
        "set async invocation of shop-dev:dev: 1 retries, max age 21600 s, on failure -> failures"
    )


def test_async_settings_back_to_the_defaults_delete_the_config():
    target = desired()
    steps = plan_deploy(target, deployed(target, event_invoke=(0, 60, None, None)))
    assert steps == [SetEventInvokeConfig(target)]
    assert (
        steps[0].describe()
        == "reset async retries and destinations of shop-dev:dev to the defaults"
    )


def test_declared_permissions_are_part_of_the_configuration():
    target = desired(permissions=(("api.stripe.com:443",), ("/srv/data",), None))
    assert target.configuration()["StrumPermissions"] == {
        "Network": ["api.stripe.com:443"],
        "Files": ["/srv/data"],
    }
    closed = deployed(desired())
    steps = plan_deploy(target, closed)
    assert [type(step).__name__ for step in steps[:1]] == ["UpdateConfiguration"]
    assert steps[0].changes == ("StrumPermissions",)
    assert plan_deploy(target, deployed(target)) == []


def test_a_new_version_starts_before_the_alias_moves_to_it():
    from dataclasses import replace

    from strum.deploy.steps import CheckVersion

    old = desired()
    current = deployed(old)
    changed = replace(old, code_sha256="b" * 44)
    steps = plan_deploy(changed, current)
    assert [type(step).__name__ for step in steps] == [
        "UpdateCode",
        "PublishVersion",
        "CheckVersion",
        "PointAlias",
    ]
    check = steps[2]
    assert isinstance(check, CheckVersion)
    assert check.serving == "1"
    first = plan_deploy(old, CurrentFunction())
    assert [type(step).__name__ for step in first][:4] == [
        "CreateFunction",
        "PublishVersion",
        "CheckVersion",
        "PointAlias",
    ]
    assert first[2].serving is None


def test_the_url_turns_buffered_after_the_check_and_before_the_alias_moves():
    # Off streaming: between the URL change and the alias move, a request gets a 502 from
    # the streamed version, never the buffered version's envelope served raw.
    streamed = desired(invoke_mode="RESPONSE_STREAM", description="s [RESPONSE_STREAM]")
    target = desired(code_sha256="bmV3", description="s")
    steps = [type(step).__name__ for step in plan_deploy(target, deployed(streamed))]
    assert steps == [
        "UpdateCode",
        "UpdateConfiguration",
        "PublishVersion",
        "CheckVersion",
        "EnsureUrl",
        "PointAlias",
    ]
    # Onto streaming: the alias moves first, then the URL streams.
    back = desired(invoke_mode="RESPONSE_STREAM", code_sha256="bmV3")
    steps = [type(step).__name__ for step in plan_deploy(back, deployed(desired()))]
    assert steps[-2:] == ["PointAlias", "EnsureUrl"]
