"""Import-cost guard: the runtime ships in every function, its imports are its cold start."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.runtime.runtime_api import SRC

# Heavy or needless on the start path; each is several ms (see strum/runtime/_client.py).
FORBIDDEN = {"http.client", "email.parser", "ssl", "logging", "traceback", "socket", "typing"}


def _new_modules(statement: str, prelude: str = "") -> set[str]:
    """Modules that ``statement`` imports in a fresh interpreter (after ``prelude`` ran)."""
    code = (
        f"{prelude}import json, sys; "
        f"before = set(sys.modules); {statement}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out))


def test_importing_the_package_does_nothing() -> None:
    assert _new_modules("import strum.runtime") == {"strum", "strum.runtime"}


def test_the_bootstrap_imports_only_light_stdlib_modules() -> None:
    new = _new_modules("import strum.runtime._bootstrap")

    assert not new & FORBIDDEN
    outside = {m for m in new if m.split(".")[0] not in sys.stdlib_module_names}
    assert {m for m in outside if not m.startswith("strum")} == set()
    assert not any(m.startswith("strum.adapter") for m in new)


def test_the_entry_router_imports_nothing_heavy_without_an_app(tmp_path) -> None:
    manifest = tmp_path / "strum_manifest.json"
    manifest.write_text('{"version": 1}')
    new = _new_modules(
        "import strum.runtime.entry",
        prelude=f"import os; os.environ['STRUM_MANIFEST'] = {str(manifest)!r}; ",
    )
    assert not new & (FORBIDDEN | {"asyncio", "urllib.parse", "importlib.util"})
    assert {
        m
        for m in new
        if m.split(".")[0] not in sys.stdlib_module_names and not m.startswith("strum")
    } == set()
