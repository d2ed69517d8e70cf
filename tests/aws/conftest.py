"""Fixtures for the AWS target: a real moto server over HTTP, projects to deploy.

No mocks: boto3 talks HTTP to moto on a loopback port, exactly as it would to AWS
(``AWS_ENDPOINT_URL``). The server lives for the session; each test starts from an empty
account (moto's reset route).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.motoserver import MotoServer, aws_environment, start_moto

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoServer:
    """An empty moto account; boto3 in this process (and the CLI) points at it."""
    moto_server.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_environment(moto_server.endpoint, REGION).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STRUM_HOME", str(tmp_path / "strum-home"))
    return moto_server


def _wheel(directory: Path, name: str, version: str) -> Path:
    """A tiny pure-Python wheel, so dependency installs never need the network."""
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: strum-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for arcname, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{arcname},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, text in files.items():
            archive.writestr(arcname, text)
    return path


@pytest.fixture
def wheelhouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index with ``tinydep`` 1.0 and 2.0; pip reaches nothing else."""
    house = tmp_path / "wheelhouse"
    house.mkdir()
    _wheel(house, "tinydep", "1.0")
    _wheel(house, "tinydep", "2.0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    return house


APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from strum on Lambda"
"""

JOBS = """\
def cleanup(event, context):
    return "cleaned"


def consume(record, context):
    return None
"""


def make_project(
    root: Path, *, stage_extra: str = "", top_extra: str = "", dependencies: str = ""
) -> Path:
    """A tiny Flask project with a ``prod`` stage on AWS (moto)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP)
    (root / "jobs.py").write_text(JOBS)
    (root / "pyproject.toml").write_text(
        f"""\
[project]
name = "shop"
version = "0.1.0"
dependencies = [{dependencies}]

[tool.strum]
app = "app:app"
memory = 256
timeout = 10
{top_extra}

[tool.strum.stages.prod]
target = "aws"
region = "{REGION}"
{stage_extra}
"""
    )
    return root
