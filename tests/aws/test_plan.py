"""The AWS planner is pure: desired vs current state -> ordered steps, no AWS involved."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from strum.aws.plan import (
    CurrentStage,
    DesiredStage,
    Schedule,
    canonical,
    plan_deploy,
)


def desired(**changes) -> DesiredStage:
    base = DesiredStage(
        project="shop",
        stage="prod",
        function="shop-prod",
        region="eu-west-1",
        account="123456789012",
        partition="aws",
        code_zip=Path("app.zip"),
        code_sha256="Y29kZQ==",
        runtime="python3.12",
        architecture="arm64",
        role_arn="arn:aws:iam::123456789012:role/shop-prod-role",
        role_name="shop-prod-role",
        trust=canonical({"Statement": []}),
        policy=canonical({"Statement": [{"Sid": "A"}]}),
        layer_name="shop-deps",
        layer_marker="strum deps sha256:abc aws-py3.12-arm64",
        schedules=(Schedule("nightly", "shop-prod-nightly", "rate(1 day)", True),),
    )
    return replace(base, **changes)


def names(steps) -> list[str]:
    return [type(step).__name__ for step in steps]


def in_step(wanted: DesiredStage) -> CurrentStage:
    """What AWS reports right after ``wanted`` was deployed."""
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:shop-deps:1"
    configuration = {
        **wanted.configuration(layer),
        "Layers": [{"Arn": layer}],
        "CodeSha256": wanted.code_sha256,
        "Architectures": [wanted.architecture],
    }
    return CurrentStage(
        role={"RoleName": "shop-prod-role", "AssumeRolePolicyDocument": {"Statement": []}},
        role_policy={"Statement": [{"Sid": "A"}]},
        layer_arn=layer,
        function=configuration,
        tags=wanted.tags,
        alias={"FunctionVersion": "1"},
        aliased=configuration,
        url={"FunctionUrl": "https://x", "InvokeMode": "Buffered"},
        statements=tuple(
            {
                "Sid": g.sid,
                "Action": g.action,
                "Principal": g.principal if g.principal == "*" else {"Service": g.principal},
                "Condition": {"ArnLike": {"AWS:SourceArn": g.source_arn}} if g.source_arn else {},
            }
            for g in wanted.grants()
        ),
        rules=tuple((s, (wanted.alias_arn,)) for s in wanted.schedules),
        log_group={"logGroupName": wanted.log_group},
    )


def test_a_first_deploy_moves_the_alias_before_anything_routes_to_it():
    steps = names(plan_deploy(desired(), CurrentStage()))
    assert steps[:4] == ["CreateRole", "PutRolePolicy", "CreateLogGroup", "PublishLayer"]
    alias = steps.index("PointAlias")
    assert steps.index("CreateFunction") < steps.index("PublishVersion") < alias
    assert alias < steps.index("EnsureUrl") < steps.index("PutSchedule")


def test_in_step_means_no_steps():
    wanted = desired()
    assert plan_deploy(wanted, in_step(wanted)) == []


def test_code_only_change_updates_code_publishes_and_moves_the_alias():
    current = in_step(desired())
    steps = plan_deploy(desired(code_sha256="bmV3"), current)
    assert names(steps) == ["UpdateCode", "PublishVersion", "PointAlias"]


def test_architecture_change_goes_through_the_code_update():
    current = in_step(desired())
    (update, *_) = plan_deploy(desired(architecture="x86_64"), current)
    assert names([update]) == ["UpdateCode"] and update.architecture_changed


def test_a_new_dependency_hash_publishes_a_layer_and_reconfigures():
    current = replace(in_step(desired()), layer_arn=None)
    steps = plan_deploy(desired(), current)
    assert names(steps) == ["PublishLayer", "UpdateConfiguration", "PublishVersion", "PointAlias"]
    assert steps[1].changes == ("Layers",)


def test_policy_drift_is_repaired_without_touching_the_function():
    current = replace(in_step(desired()), role_policy={"Statement": [{"Sid": "Wider"}]})
    assert names(plan_deploy(desired(), current)) == ["PutRolePolicy"]


def test_switching_to_the_users_role_deletes_strums_role_last():
    wanted = desired(role_name=None, role_arn="arn:aws:iam::123456789012:role/mine")
    steps = names(plan_deploy(wanted, in_step(desired())))
    assert steps[0] == "UpdateConfiguration" and steps[-1] == "DeleteOwnRole"


def test_removed_schedules_lose_their_rule_and_permission():
    steps = plan_deploy(desired(schedules=()), in_step(desired()))
    assert names(steps) == ["RemoveSchedule", "RevokePermission"]


def test_http_api_instead_of_url():
    wanted = desired(url=False, http_api=True)
    steps = names(plan_deploy(wanted, in_step(desired())))
    assert "RemoveUrl" in steps and "EnsureHttpApi" in steps
    assert steps.count("RevokePermission") == 2  # the URL's two statements
