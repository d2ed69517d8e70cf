"""One platform per home: a second one fails at once, naming the first, and touches nothing.

The deploy-safety issue saw a second ``strum platform run`` replace the first one's sandbox
``/etc`` and wipe its ``tmp`` before failing on the port; every cold start of the running
platform failed after that.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from strum.cli import cli
from strum.platform import Home, Platform, Settings
from strum.platform.home import HomeInUse
from tests.platform.packages import create_function


def test_a_second_platform_on_a_home_fails_first_and_harms_nothing(running_platform, tmp_path):
    home = running_platform.platform.home
    marker = home.root / "tmp" / "still-here"
    marker.parent.mkdir(exist_ok=True)
    marker.write_text("the running platform's")
    with pytest.raises(HomeInUse) as info:
        Platform(Home(home.root), Settings(port=0, sandbox=False))
    message = str(info.value)
    assert f"a platform already runs for {home.root}" in message
    assert running_platform.endpoint in message
    assert "strum platform stop" in message
    assert marker.read_text() == "the running platform's"
    # The first platform still starts instances.
    client = running_platform.client()
    create_function(client, "still-works")
    assert client.invoke(FunctionName="still-works", Payload=b"{}")["StatusCode"] == 200


def test_strum_platform_run_says_which_platform_holds_the_home(running_platform):
    home = running_platform.platform.home.root
    result = CliRunner().invoke(cli, ["platform", "run", "--port", "0", "--home", str(home)])
    assert result.exit_code == 4, result.output
    assert "a platform already runs for" in result.output
    assert running_platform.endpoint in result.output


def test_the_lock_is_released_when_a_platform_stops(tmp_path):
    from tests.platform.conftest import start_platform

    first = start_platform(tmp_path / "home")
    first.stop()
    second = start_platform(tmp_path / "home")
    second.stop()
