"""``snap_start``: SnapStart on an AWS stage's published versions, for python 3.12 and later."""

from __future__ import annotations

from strum.config import load_config
from tests.config.support import problems


def test_snap_start_on_a_new_enough_python(project):
    directory = project(
        '[tool.strum]\napp = "hello:app"\npython = "3.12"\nsnap_start = true\n'
        '[tool.strum.stages.prod]\ntarget = "aws"\n'
    )
    assert load_config(directory, "prod").snap_start is True
    assert load_config(directory).snap_start is True


def test_snap_start_on_an_older_python_is_refused_with_the_fix(project):
    directory = project(
        '[tool.strum]\napp = "hello:app"\npython = "3.11"\n'
        '[tool.strum.stages.prod]\ntarget = "aws"\nsnap_start = true\n'
    )
    (problem,) = problems(directory, "prod")
    assert "tool.strum.stages.prod.snap_start" in problem
    assert "python 3.12 or later" in problem and 'set python = "3.12"' in problem


def test_snap_start_on_the_platform_is_fine_on_any_python(project):
    directory = project('[tool.strum]\napp = "hello:app"\npython = "3.11"\nsnap_start = true\n')
    assert load_config(directory).snap_start is True


def test_snap_start_must_be_a_boolean(project):
    directory = project('[tool.strum]\napp = "hello:app"\nsnap_start = "yes"\n')
    (problem,) = problems(directory)
    assert "snap_start" in problem and "true or false" in problem
