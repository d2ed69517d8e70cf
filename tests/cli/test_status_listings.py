"""Listings: ``strum platform status`` names every function (the version each alias serves,
its URLs, its warm instances); ``strum status`` lists the stage's schedules and consumers."""

from __future__ import annotations

import json
import re

from tests.cli.test_deploy_safety import deploy, served
from tests.cli.test_end_to_end import deployed_url, home, strum  # noqa: F401 - the fixture

APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "listed"


def consume(record, context):
    return None


def nightly(event, context):
    return None
"""

CONFIG = """\
name = "listed"
app = "app:app"

[schedules]
nightly = { function = "app:nightly", expression = "cron(0 3 * * ? *)" }

[events.orders]
source = "sqs"
function = "app:consume"
arn = "arn:aws:sqs:eu-west-1:123456789012:orders"
batch_size = 5
"""


def test_platform_status_lists_functions_and_status_lists_consumers(home, tmp_path):  # noqa: F811
    root = tmp_path / "listed"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "strum.toml").write_text(CONFIG)
    (root / "requirements.txt").write_text("flask\n")
    code, out = deploy(home, root)
    assert code == 0, out
    stable = out.strip().splitlines()[-1]
    direct = deployed_url(out)
    assert served(direct) == "listed"  # one instance is warm now

    document = json.loads(strum(home, "platform", "status", "--json"))
    (row,) = [row for row in document["functions"] if row["name"] == "listed-dev"]
    assert row["aliases"] == {"dev": "1"}
    assert row["urls"] == {"dev": {"url": direct, "stage_url": stable}}
    assert sum(c["idle"] + c["busy"] for c in row["warm"].values()) >= 1
    text = strum(home, "platform", "status")
    assert re.search(r"^  listed-dev  dev -> 1; warm: [1-9]", text, re.M), text
    assert f"    url dev: {stable} (also {direct})" in text

    state = json.loads(strum(home, "status", "--json", "--project", str(root)))
    assert state["schedules"]["nightly"]["expression"] == "cron(0 3 * * ? *)"
    assert state["consumers"] == {
        "orders": {
            "source": "sqs",
            "function": "app:consume",
            "arn": "arn:aws:sqs:eu-west-1:123456789012:orders",
            "batch": state["consumers"]["orders"]["batch"],
            "batch_size": 5,
            "enabled": True,
            "state": "not connected (no event source on the platform)",
        }
    }
    human = strum(home, "status", "--project", str(root))
    assert "schedule nightly" in human
    assert re.search(
        r"consumer orders +sqs from arn:aws:sqs:eu-west-1:123456789012:orders -> app:consume", human
    ), human
