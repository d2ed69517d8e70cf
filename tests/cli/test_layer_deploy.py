"""A local deploy ships the project's dependencies as a layer, published once per content:
the code zip holds only the app (and strum's runtime), a code-only change uploads only
that, and undeploy removes the layer versions no function uses any more."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_end_to_end import Client, deployed_url, project, strum
from tests.platform.conftest import RunningPlatform, start_platform

LAYER = "hello-flask-deps"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("strum-home")
    running: RunningPlatform = start_platform(root)
    yield root, running.client()
    running.stop()


def package_names(client: Any, name: str) -> set[str]:
    location = client.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location) as response:
        data = response.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {member.filename.split("/", 1)[0] for member in archive.infolist()}


def test_dependencies_travel_once_as_a_layer(platform: tuple[Path, Any], tmp_path: Path) -> None:
    home, client = platform
    root = project(tmp_path, "flask")
    dry = strum(home, "deploy", "--dry-run", "--project", str(root))
    assert f"publish dependency layer {LAYER}" in dry
    url = deployed_url(strum(home, "deploy", "--project", str(root)))
    assert b"Hello from Flask" in Client().get(url)[2]

    name = "hello-flask-dev"
    layers = client.get_function_configuration(FunctionName=name)["Layers"]
    arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{LAYER}:1"
    assert [layer["Arn"] for layer in layers] == [arn]
    # The code package is the app and strum's runtime; Flask lives in the layer only.
    names = package_names(client, name)
    assert "app.py" in names and "flask" not in names
    layer = client.get_layer_version_by_arn(Arn=arn)
    assert layer["Description"].startswith("strum deps sha256:")

    # A code-only change neither republishes nor re-uploads the dependencies.
    app = root / "app.py"
    app.write_text(app.read_text().replace("Hello from Flask", "Hello again from Flask"))
    dry = strum(home, "deploy", "--dry-run", "--project", str(root))
    assert "publish dependency layer" not in dry
    assert "would upload new code" in dry
    out = strum(home, "deploy", "--project", str(root))
    assert "reusing version 1" in out
    assert b"Hello again" in Client().get(url)[2]
    versions = client.list_layer_versions(LayerName=LAYER)["LayerVersions"]
    assert [version["Version"] for version in versions] == [1]
    assert "nothing changed" in strum(home, "deploy", "--project", str(root))

    assert "removed" in strum(home, "undeploy", "--yes", "--project", str(root))
    assert client.list_layer_versions(LayerName=LAYER)["LayerVersions"] == []
