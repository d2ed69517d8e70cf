"""Import-cost guard: the code that ships inside functions pulls in only the standard
library, and none of its heavy parts, at import time.

Each check runs in a fresh interpreter so modules imported by the test suite do not hide
what an import really costs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Modules that cost milliseconds each and that a cold start must not pay for up front.
HEAVY = {"asyncio", "typing", "re", "json", "logging", "base64", "urllib", "inspect", "email"}


def modules_imported_by(statement: str) -> list[str]:
    code = (
        "import sys, json as _j\n"
        "before = set(sys.modules)\n"
        f"{statement}\n"
        "sys.stdout.write(_j.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "statement",
    ["import strum", "from strum import make_handler", "import strum.errors"],
)
def test_shipped_code_imports_only_light_stdlib_modules(statement):
    imported = modules_imported_by(statement)
    foreign = [
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "strum"
    ]
    assert foreign == []
    assert sorted(HEAVY & {name.split(".")[0] for name in imported}) == []


def test_making_a_wsgi_handler_stays_light():
    imported = modules_imported_by(
        "from strum import make_handler\nmake_handler(lambda environ, start_response: [])"
    )
    assert "asyncio" not in imported
