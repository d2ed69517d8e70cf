"""The AWS CLI against a real platform, as a user types the layer commands:
``aws lambda publish-layer-version`` / ``list-layers`` / ``get-layer-version`` /
``list-layer-versions`` / ``delete-layer-version``, and a function created with ``--layers``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import ROLE, make_zip

AWS = str(Path(sys.executable).parent / "aws")


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Any]:
    running: RunningPlatform = start_platform(tmp_path / "home")
    owner = running.owner
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": owner.access_key_id,
        "AWS_SECRET_ACCESS_KEY": owner.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_LAMBDA": running.endpoint,
    }

    def run(*args: str, ok: bool = True) -> Any:
        done = subprocess.run(
            [AWS, "lambda", *args, "--output", "json"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if not ok:
            return done
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    yield run
    running.stop()


def test_layer_commands_as_a_user_types_them(aws: Any, tmp_path: Path) -> None:
    (tmp_path / "layer.zip").write_bytes(make_zip({"python/greeting.py": "WORD = 'hi'\n"}))
    published = aws(
        "publish-layer-version", "--layer-name", "shared",
        "--description", "greetings", "--zip-file", "fileb://layer.zip",
        "--compatible-runtimes", "python3.11", "python3.12",
        "--compatible-architectures", "x86_64",
    )  # fmt: skip
    arn = "arn:aws:lambda:us-east-1:000000000000:layer:shared:1"
    assert published["LayerVersionArn"] == arn
    assert published["CompatibleRuntimes"] == ["python3.11", "python3.12"]

    layers = aws("list-layers")["Layers"]
    assert [
        (layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in layers
    ] == [("shared", 1)]
    assert aws("list-layers", "--compatible-runtime", "python3.9")["Layers"] == []
    got = aws("get-layer-version", "--layer-name", "shared", "--version-number", "1")
    assert got["Description"] == "greetings"
    assert got["Content"]["CodeSha256"] == published["Content"]["CodeSha256"]
    assert aws("get-layer-version-by-arn", "--arn", arn)["Version"] == 1

    handler = "import greeting\n\ndef handler(event, context):\n    return greeting.WORD\n"
    (tmp_path / "code.zip").write_bytes(make_zip({"app.py": handler}))
    created = aws(
        "create-function", "--function-name", "greeter", "--runtime",
        f"python{sys.version_info.major}.{sys.version_info.minor}", "--role", ROLE,
        "--handler", "app.handler", "--zip-file", "fileb://code.zip", "--layers", arn,
    )  # fmt: skip
    assert [layer["Arn"] for layer in created["Layers"]] == [arn]
    aws("invoke", "--function-name", "greeter", "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == "hi"

    aws("delete-layer-version", "--layer-name", "shared", "--version-number", "1")
    assert aws("list-layer-versions", "--layer-name", "shared")["LayerVersions"] == []
    missing = aws("get-layer-version", "--layer-name", "shared", "--version-number", "1", ok=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
