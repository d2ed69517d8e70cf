"""Layers at run time, on a real platform with and without the sandbox: a function imports
modules that live only in its layers, finds their programs on PATH (at /opt/bin in the
sandbox), sees a later layer win a clash, cannot write to its layers, and another
function sees none of them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from strum.platform import sandbox
from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import make_zip

CAPS = sandbox.probe()
ROLE = "arn:aws:iam::000000000000:role/layers"
PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"

HANDLER = r"""
import os, shutil, sys

def handler(event, context):
    action = event["action"]
    if action == "import":
        import shared, clash, sitepkg
        return {"shared": shared.VALUE, "clash": clash.WHO, "sitepkg": sitepkg.VALUE,
                "first_path": sys.path[0], "file": shared.__file__}
    if action == "tool":
        found = shutil.which("tool")
        with open(found) as handle:
            text = handle.read()
        literal = None
        if os.path.exists("/opt/bin/tool"):
            with open("/opt/bin/tool") as handle:
                literal = handle.read()
        return {"found": found, "text": text, "literal": literal,
                "ld": os.environ.get("LD_LIBRARY_PATH")}
    if action == "write":
        target = os.path.join(os.path.dirname(__import__("shared").__file__), "evil.py")
        try:
            with open(target, "w") as handle:
                handle.write("pwned")
        except OSError as exc:
            return {"written": False, "error": type(exc).__name__}
        return {"written": True}
    if action == "look":
        try:
            import shared
            return {"imported": shared.__file__}
        except ImportError:
            pass
        return {"imported": None, "opt": sorted(os.listdir("/opt")) if os.path.isdir("/opt") else None,
                "path": os.environ.get("PATH")}
"""

LAYER_ONE = {
    "python/shared.py": "VALUE = 'only in a layer'\n",
    "python/clash.py": "WHO = 'first'\n",
    f"python/lib/{PYTHON}/site-packages/sitepkg.py": "VALUE = 'site-packages'\n",
    "bin/tool": "#!/bin/sh\necho tool from a layer\n",
}
LAYER_TWO = {"python/clash.py": "WHO = 'second'\n", "lib/libnothing.so": "not really\n"}


_NO_SANDBOX = pytest.mark.skipif(
    CAPS.bwrap is None, reason=f"no sandbox here: {CAPS.reasons.get('filesystem')}"
)


# (sandboxed, cold starts before a template): sandboxed instances started as new
# interpreters, sandboxed instances forked from a template from the first cold start on,
# and no sandbox.
@pytest.fixture(
    scope="module",
    params=[
        pytest.param((True, 1000), id="sandboxed", marks=_NO_SANDBOX),
        pytest.param((True, 0), id="sandboxed-forked", marks=_NO_SANDBOX),
        pytest.param((False, 1), id="unsandboxed"),
    ],
)
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningPlatform, bool]]:
    boxed, before_template = request.param
    running = start_platform(
        tmp_path_factory.mktemp("layers") / "home",
        sandbox=boxed,
        cold_starts_before_template=before_template,
    )
    client = running.client()
    arns = [
        client.publish_layer_version(
            LayerName=name,
            Content={"ZipFile": make_zip(files, modes={"bin/tool": 0o100755})},
        )["LayerVersionArn"]
        for name, files in (("one", LAYER_ONE), ("two", LAYER_TWO))
    ]
    for name, layers in (("layered", arns), ("plain", [])):
        client.create_function(
            FunctionName=name, Runtime=PYTHON, Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})}, Layers=layers, Timeout=30,
        )  # fmt: skip
    yield running, boxed
    running.stop()


def invoke(running: RunningPlatform, name: str, action: str) -> dict[str, Any]:
    response = running.client().invoke(
        FunctionName=name, Payload=json.dumps({"action": action}).encode()
    )
    document: dict[str, Any] = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), document
    return document


def test_modules_only_in_a_layer_import(platform: tuple[RunningPlatform, bool]) -> None:
    running, boxed = platform
    seen = invoke(running, "layered", "import")
    assert seen["shared"] == "only in a layer"
    assert seen["sitepkg"] == "site-packages"
    assert seen["clash"] == "second"  # extracted in order: the later layer wins
    if boxed:
        assert seen["file"] == "/opt/python/shared.py"


def test_layer_programs_are_on_path(platform: tuple[RunningPlatform, bool]) -> None:
    running, boxed = platform
    seen = invoke(running, "layered", "tool")
    assert seen["text"] == LAYER_ONE["bin/tool"]
    if boxed:
        assert seen["found"] == "/opt/bin/tool"
        assert seen["literal"] == LAYER_ONE["bin/tool"]
        assert seen["ld"] == "/opt/lib"
    else:
        # Without a sandbox the layers stay where the platform keeps them (not at /opt).
        assert seen["found"].endswith("/bin/tool") and not seen["found"].startswith("/opt/")


def test_a_function_cannot_write_to_its_layers(platform: tuple[RunningPlatform, bool]) -> None:
    running, boxed = platform
    if not boxed and os.geteuid() == 0:
        pytest.skip("without a sandbox, root ignores the read-only modes")
    assert invoke(running, "layered", "write")["written"] is False


def test_another_function_sees_no_layers(platform: tuple[RunningPlatform, bool]) -> None:
    running, boxed = platform
    seen = invoke(running, "plain", "look")
    assert seen["imported"] is None
    if boxed:
        assert seen["opt"] is None
