"""``snap_start = true`` on the AWS target, against a real moto server and in the template:
``SnapStart: {ApplyOn: PublishedVersions}`` on the function (the alias already points at
published versions, which is what SnapStart snapshots)."""

from __future__ import annotations

from strum.deploy.steps import changed_fields
from tests.aws.conftest import make_project
from tests.aws.test_volumes import deploy_watching_create


def test_snap_start_reaches_the_function(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='python = "3.12"\nsnap_start = true\n')
    sent = deploy_watching_create(root, tmp_path)
    assert sent["SnapStart"] == {"ApplyOn": "PublishedVersions"}


def test_a_function_with_snap_start_as_aws_reports_it_is_up_to_date():
    # moto keeps no SnapStart (it answers without it), so redeploys are compared here
    # against the configuration as Lambda reports it (GetFunctionConfiguration).
    wanted = {"SnapStart": {"ApplyOn": "PublishedVersions"}}
    reported = {"SnapStart": {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}}
    assert changed_fields(wanted, reported) == ()
    assert changed_fields({"SnapStart": {"ApplyOn": "None"}}, {}) == ()
    assert changed_fields(wanted, {"SnapStart": {"ApplyOn": "None"}}) == ("SnapStart",)


def test_without_snap_start_the_function_has_none(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='python = "3.12"\n')
    sent = deploy_watching_create(root, tmp_path)
    assert sent["SnapStart"] == {"ApplyOn": "None"}
