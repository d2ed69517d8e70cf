"""Django's static files, collected at build time into the package.

A deployed function's code directory is read-only and its /tmp is per instance, so
``collectstatic`` cannot run there; the build runs it instead - in a subprocess of this
machine's interpreter that sees only the project and its installed dependencies (``-S``: not
strum's own environment) - into a scratch directory whose files land in the package where
``STATIC_ROOT`` says, relative to the project (``BASE_DIR / "staticfiles"`` ->
``staticfiles/``). WhiteNoise (or any server reading ``STATIC_ROOT``) then serves them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from strum.build.sources import DependencyError

# Run by the subprocess: set Django up, say where STATIC_ROOT lies in the project, collect
# into the scratch directory instead. Output: one JSON line.
_COLLECT = r"""
import json, os, sys
from pathlib import Path
import django
from django.conf import settings
django.setup()
def answer(**fields):
    print("\nSTRUM-STATIC " + json.dumps(fields))
    sys.exit(0)
if "django.contrib.staticfiles" not in settings.INSTALLED_APPS:
    answer(skip="django.contrib.staticfiles is not in INSTALLED_APPS")
if not settings.STATIC_ROOT:
    answer(skip="STATIC_ROOT is not set")
project = Path(os.environ["STRUM_PROJECT"]).resolve()
root = Path(settings.STATIC_ROOT).resolve()
if not root.is_relative_to(project) or root == project:
    answer(outside=str(root))
settings.STATIC_ROOT = os.environ["STRUM_STATIC_OUT"]
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
answer(prefix=root.relative_to(project).as_posix())
"""
_MARK = "STRUM-STATIC "


@dataclass(frozen=True)
class CollectedStatic:
    """What ``collect_static`` found: the package prefix and the files, or why nothing."""

    prefix: str | None = None  # "staticfiles": where STATIC_ROOT is in the package
    directory: Path | None = None  # the collected files
    skipped: str | None = None


def collect_static(
    project: Path, settings: str, site: Path | None, out: Path, timeout: float = 300
) -> CollectedStatic:
    """Run ``collectstatic`` for ``settings`` into ``out``; ``DependencyError`` when the
    project's settings cannot be loaded here, with Django's own words."""
    paths = [str(project), *([str(site)] if site is not None else [])]
    env = {
        key: value
        for key, value in os.environ.items()
        # Not "deployed": settings that switch on these must describe the build's view.
        if not key.startswith(("AWS_LAMBDA_", "LAMBDA_", "PYTHON"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        DJANGO_SETTINGS_MODULE=settings,
        STRUM_PROJECT=str(project),
        STRUM_STATIC_OUT=str(out),
        PYTHONDONTWRITEBYTECODE="1",
    )
    try:
        result = subprocess.run(
            [sys.executable, "-S", "-c", _COLLECT],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DependencyError(
            f"collectstatic for {settings} took longer than {timeout:.0f} s; is something in "
            "the settings waiting for the network?"
        ) from None
    answer = next(
        (line[len(_MARK) :] for line in result.stdout.splitlines() if line.startswith(_MARK)),
        None,
    )
    if result.returncode != 0 or answer is None:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-12:]
        raise DependencyError(
            f"collecting the static files of {settings} failed (the build runs "
            "`manage.py collectstatic` with the package's dependencies):\n  " + "\n  ".join(detail)
        )
    fields = json.loads(answer)
    if "skip" in fields:
        return CollectedStatic(skipped=fields["skip"])
    if "outside" in fields:
        return CollectedStatic(
            skipped=f"STATIC_ROOT ({fields['outside']}) is outside the project, so it cannot "
            'ship in the package; set STATIC_ROOT = BASE_DIR / "staticfiles"'
        )
    return CollectedStatic(prefix=fields["prefix"], directory=out)
