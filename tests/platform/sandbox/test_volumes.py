"""Volumes in the sandbox, attacked first: a function reaches its own volume read-write and
nothing else - not the other volumes, not the platform's state behind a symbolic link - and
what it writes is shared by every function naming the volume and outlives the platform.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strum.deploy.local import PlatformLambdaAPI
from strum.platform import sandbox
from strum.platform.volumes import volume_arn, volume_id
from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import make_zip
from tests.platform.sandbox.test_sandbox import CAPS, ROLE, runtime

pytestmark = pytest.mark.skipif(
    CAPS.bwrap is None, reason=f"no sandbox here: {CAPS.reasons.get('filesystem')}"
)

PROBE = r"""
import os

def attempt(action):
    try:
        return {"ok": True, "value": action()}
    except OSError as exc:
        return {"ok": False, "error": type(exc).__name__}

def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
    return os.stat(path).st_uid

def read(path):
    with open(path) as handle:
        return handle.read()

ACTIONS = {
    "write": lambda a: write(*a), "read": read, "listdir": lambda p: sorted(os.listdir(p)),
    "symlink": lambda a: os.symlink(*a), "mkdir": os.mkdir, "rmdir": os.rmdir,
    "rename": lambda a: os.rename(*a),
}

def handler(event, context):
    return attempt(lambda: ACTIONS[event["do"]](event.get("arg")))
"""

SDK = r"""
import sys

def handler(event, context):
    import boto3
    names = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]]
    return {"names": sorted(names), "boto3": boto3.__file__, "path": sys.path}
"""


def arn(name: str) -> str:
    return volume_arn("us-east-1", "000000000000", name)


def deploy(running: RunningPlatform, name: str, volume: str | None, source: str = PROBE) -> None:
    fields: dict[str, Any] = {}
    if volume is not None:
        fields["FileSystemConfigs"] = [{"Arn": arn(volume), "LocalMountPath": "/mnt/data"}]
    running.client().create_function(
        FunctionName=name, Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})}, Timeout=30, **fields,
    )  # fmt: skip


def do(running: RunningPlatform, name: str, action: str, arg: Any = None) -> dict[str, Any]:
    response = running.client().invoke(
        FunctionName=name, Payload=json.dumps({"do": action, "arg": arg}).encode()
    )
    document = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), document
    return document


# Instances started as new interpreters, and forked from a template from the first cold
# start on: a volume is the same to both.
@pytest.fixture(scope="module", params=[1000, 0], ids=["interpreter", "forked"])
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPlatform]:
    running = start_platform(
        tmp_path_factory.mktemp("volumes") / "home",
        sandbox=True,
        cold_starts_before_template=request.param,
    )
    deploy(running, "writer", "shared")
    deploy(running, "reader", "shared")
    deploy(running, "other", "private")
    deploy(running, "none", None)
    yield running
    running.stop()


def test_a_volume_is_shared_by_the_functions_naming_it(platform: RunningPlatform) -> None:
    written = do(platform, "writer", "write", ["/mnt/data/note.txt", "hello"])
    assert written == {"ok": True, "value": 65534}  # the instance's own uid can write
    assert do(platform, "reader", "read", "/mnt/data/note.txt")["value"] == "hello"
    on_host = platform.platform.home.volumes / volume_id("shared") / "note.txt"
    assert on_host.read_text() == "hello"
    assert do(platform, "other", "read", "/mnt/data/note.txt")["ok"] is False


def test_a_function_sees_only_its_own_volume(platform: RunningPlatform) -> None:
    do(platform, "other", "write", ["/mnt/data/secret.txt", "mine"])
    assert do(platform, "writer", "listdir", "/mnt")["value"] == ["data"]
    assert do(platform, "none", "listdir", "/mnt")["ok"] is False
    volumes = platform.platform.home.volumes
    for path in (
        volumes / volume_id("private") / "secret.txt",
        volumes,
        platform.platform.home.root,
    ):
        assert (
            do(platform, "writer", "read" if path.suffix else "listdir", str(path))["ok"] is False
        )
    # Above the mount is the read-only root, and the mount itself cannot be moved away.
    assert do(platform, "writer", "write", ["/mnt/escape.txt", "x"])["ok"] is False
    assert do(platform, "writer", "rename", ["/mnt/data", "/mnt/moved"])["ok"] is False


def test_symbolic_links_in_a_volume_resolve_inside_the_sandbox(platform: RunningPlatform) -> None:
    private = platform.platform.home.volumes / volume_id("private")
    link = "/mnt/data/to-private"
    assert do(platform, "writer", "symlink", [str(private), link])["ok"] is True
    assert do(platform, "writer", "listdir", link)["ok"] is False
    assert do(platform, "writer", "symlink", ["/etc/shadow", "/mnt/data/shadow"])["ok"] is True
    assert do(platform, "writer", "read", "/mnt/data/shadow")["ok"] is False  # not copied in
    assert do(platform, "writer", "symlink", ["../../..", "/mnt/data/up"])["ok"] is True
    assert "platform.db" not in str(do(platform, "writer", "listdir", "/mnt/data/up"))


def test_a_volume_replaced_by_a_symbolic_link_is_not_mounted(platform: RunningPlatform) -> None:
    volumes = platform.platform.home.volumes
    os.symlink(platform.platform.home.root, volumes / volume_id("planted"))
    deploy(platform, "planted", "planted")
    response = platform.client().invoke(FunctionName="planted", Payload=b"{}")
    document = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert "is not a directory; it is not mounted" in document["errorMessage"]


def test_the_volume_directory_is_private(platform: RunningPlatform) -> None:
    volume = platform.platform.home.volumes / volume_id("shared")
    do(platform, "writer", "write", ["/mnt/data/x", "x"])
    assert volume.stat().st_mode & 0o777 == 0o700
    assert platform.platform.home.volumes.stat().st_mode & 0o777 == 0o711
    if CAPS.run_as is not None:
        assert volume.stat().st_uid == sandbox.NOBODY


def test_boto3_is_importable_after_the_package_and_reaches_the_platform(
    platform: RunningPlatform,
) -> None:
    deploy(platform, "sdk", None, SDK)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}],
    }
    api = PlatformLambdaAPI.for_home(platform.platform.home, platform.endpoint)
    try:
        # On the network: an instance without it reaches only Invoke, through its
        # Runtime API address (its AWS_ENDPOINT_URL_LAMBDA then).
        permissions = {"Network": True, "Policy": policy}
        api.update_function_configuration("sdk", {"StrumPermissions": permissions})
    finally:
        api.close()
    response = platform.client().invoke(FunctionName="sdk", Payload=b"{}")
    document = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), document
    assert "writer" in document["names"] and "sdk" in document["names"]
    assert document["boto3"] == f"{sandbox.SDK_DIR}/boto3/__init__.py"
    path = document["path"]
    assert path.index("/var/task") < path.index(sandbox.SDK_DIR)


def test_a_packaged_boto3_wins(platform: RunningPlatform) -> None:
    source = "import boto3\ndef handler(event, context):\n    return boto3.__file__\n"
    platform.client().create_function(
        FunctionName="bundled", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source, "boto3/__init__.py": "MINE = 1\n"})},
    )  # fmt: skip
    response = platform.client().invoke(FunctionName="bundled", Payload=b"{}")
    assert json.loads(response["Payload"].read()) == "/var/task/boto3/__init__.py"


def test_a_volume_outlives_the_platform(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_platform(home, sandbox=True)
    try:
        deploy(first, "keeper", "kept")
        assert do(first, "keeper", "write", ["/mnt/data/kept.txt", "still here"])["ok"]
    finally:
        first.stop()
    second = start_platform(home, sandbox=True)
    try:
        # A new version of new code still finds what the old one wrote.
        second.client().update_function_code(
            FunctionName="keeper", ZipFile=make_zip({"app.py": PROBE + "\n# v2\n"}), Publish=True
        )
        assert do(second, "keeper", "read", "/mnt/data/kept.txt")["value"] == "still here"
    finally:
        second.stop()
