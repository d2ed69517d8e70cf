"""The package face: light to import, its public names pinned and documented."""

from __future__ import annotations

import subprocess
import sys

from strum.config import (
    load_config,
)


def test_importing_config_stays_light():
    code = (
        "import sys\nimport strum.config\n"
        "heavy = {'typing', 'tomllib', 'difflib', 'strum.schedule', 'click', 'asyncio'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_public_names_are_pinned_and_documented():
    import strum.config

    assert strum.config.__all__ == [
        "DEFAULT_STAGE",
        "SUPPORTED_PYTHONS",
        "AsyncInvocation",
        "ConfigError",
        "Durable",
        "EventSource",
        "Permissions",
        "ProjectConfig",
        "Schedule",
        "StageConfig",
        "Volume",
        "Vpc",
        "load_config",
        "load_identity",
    ]
    for name in strum.config.__all__:
        if name[0].isupper() and not name.isupper():
            assert getattr(strum.config, name).__doc__, name
    assert load_config.__doc__
