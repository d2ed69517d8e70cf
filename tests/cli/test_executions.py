"""``strum executions``: a stage's durable executions on the platform, newest first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_end_to_end import strum
from tests.platform.conftest import start_platform
from tests.platform.packages import create_function, make_zip

pytest.importorskip("aws_durable_execution_sdk_python")

FLOW = r"""
from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event, context: DurableContext):
    return context.step(lambda _: event["n"] * 2, name="double")
"""


def test_executions_lists_the_stages_durable_executions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = tmp_path / "flow"
    root.mkdir()
    (root / "flow.py").write_text("def handler(event, context):\n    return event\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "flow"\nversion = "0"\n\n[tool.strum]\napp = "flow:handler"\n'
    )
    running = start_platform(home)
    try:
        client = running.client()
        missing = strum(home, "executions", "--project", str(root), ok=False)
        assert "flow-dev is not deployed on the platform; run `strum deploy dev` first" in missing
        # The stage's function, made durable as `[tool.strum.durable]` makes it.
        create_function(
            client,
            "flow-dev",
            Code={"ZipFile": make_zip({"app.py": FLOW})},
            DurableConfig={"ExecutionTimeout": 60},
            Timeout=30,
        )
        response = client.invoke(
            FunctionName="flow-dev", DurableExecutionName="first", Payload=b'{"n": 21}'
        )
        assert json.loads(response["Payload"].read()) == 42
        assert "1 execution(s)" in strum(home, "executions", "--project", str(root))
        out = strum(home, "executions", "--project", str(root))
        assert "first  SUCCEEDED" in out
        assert "1 execution(s) of flow-dev, 0 running" in out
        status = strum(home, "status", "--project", str(root), ok=False)
        assert "1 succeeded (`strum executions` lists them)" in status
        listed = json.loads(strum(home, "executions", "--project", str(root), "--json"))
        assert [item["DurableExecutionName"] for item in listed] == ["first"]
    finally:
        running.stop()
