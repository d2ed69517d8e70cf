"""Nothing strum prints shows a secret: deploy, dry run, status, refusals and config errors
of a project whose env holds a Stripe key - while the function still gets the real value."""

from __future__ import annotations

import json
import textwrap
import urllib.request
from pathlib import Path

from tests.cli.test_end_to_end import deployed_url, home, strum  # noqa: F401 - the module's platform

SECRET = "sk_live_xyz"
REDIS_PASSWORD = "hunter2-redis"

APP = """
import os

def app(environ, start_response):
    real = os.environ.get("STRIPE_SECRET_KEY") == "sk_live_xyz"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the real key" if real else b"no key"]
"""


def shop(tmp_path: Path, env: str) -> Path:
    root = tmp_path / "shop"
    root.mkdir(exist_ok=True)
    (root / "app.py").write_text(textwrap.dedent(APP))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "shop"
            version = "0"
            dependencies = []

            [tool.strum]
            app = "app:app"
            """
        )
        + f"env = {{ {env} }}\n"
    )
    return root


def test_deploy_dry_run_and_status_never_print_the_secret(home: Path, tmp_path: Path) -> None:  # noqa: F811
    root = shop(
        tmp_path,
        f'STRIPE_SECRET_KEY = "{SECRET}", GREETING = "hi", '
        f'REDIS_URL = "redis://:{REDIS_PASSWORD}@cache:6379/0"',
    )
    printed = [strum(home, "deploy", "--project", str(root))]
    with urllib.request.urlopen(deployed_url(printed[0]), timeout=30) as response:
        assert response.read() == b"the real key"  # masked in output only

    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace(SECRET, SECRET + "_v2")
    )
    dry = strum(home, "deploy", "--dry-run", "--project", str(root))
    assert "would update configuration of shop-dev: Environment" in dry
    printed += [dry, strum(home, "status", "--project", str(root))]
    status = strum(home, "status", "--json", "--project", str(root))
    printed.append(status)
    assert json.loads(status)["environment"] == {
        "GREETING": "hi",
        "REDIS_URL": "redis://:***@cache:6379/0",
        "STRIPE_SECRET_KEY": "***",
    }
    assert "STRIPE_SECRET_KEY=***" in printed[2]
    for output in printed:
        assert SECRET not in output
        assert REDIS_PASSWORD not in output


def test_a_refusal_that_quotes_the_environment_is_masked(home: Path, tmp_path: Path) -> None:  # noqa: F811
    # Within the config's 4 KB of names and values, over Lambda's 4 KB of JSON: the platform
    # refuses with AWS's message, which quotes the start of the variables.
    padding = ", ".join(f'V{index:02} = "{"x" * 60}"' for index in range(60))
    root = shop(tmp_path, f'STRIPE_SECRET_KEY = "{SECRET}", {padding}')
    output = strum(home, "deploy", "--project", str(root), ok=False)
    assert "exceeded the 4KB limit" in output
    assert '"STRIPE_SECRET_KEY":"***"' in output
    assert SECRET not in output
    debug = strum(home, "--debug", "deploy", "--project", str(root), ok=False)
    assert "Traceback (most recent call last)" in debug
    assert SECRET not in debug


def test_a_config_error_about_a_secret_does_not_quote_it(tmp_path: Path) -> None:
    root = shop(tmp_path, "STRIPE_SECRET_KEY = 424242424242")
    output = strum(tmp_path / "no-home", "status", "--project", str(root), ok=False)
    assert "environment values are strings, not a number" in output
    assert 'quote it: STRIPE_SECRET_KEY = "..."' in output
    assert "424242424242" not in output
