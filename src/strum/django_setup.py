"""What ``strum init`` does to a Django project so that it works deployed, by editing text -
never importing the project.

A fresh ``django-admin startproject`` site keeps its SQLite database beside the code and
serves static files only from ``runserver``. Deployed, the code directory is read-only and
nothing serves ``/static/``. So ``prepare_django``:

- appends one marked block to the settings module: ``STATIC_ROOT`` (the build collects into
  it, ``strum.build.static``), WhiteNoise's middleware to serve it, and - in a deployed
  function only - the SQLite database on the stage's volume (``/mnt/data``, which the config
  ``render_config`` writes declares) and the function URL hosts in ``ALLOWED_HOSTS``;
- makes sure the dependencies name Django and WhiteNoise: a new ``requirements.txt`` when
  the project declares none, a line added to an existing one, or a note saying what to add
  where strum should not edit (``pyproject.toml``, lock files).

Each change is returned as a sentence for the CLI to print; running it twice changes nothing.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

__all__ = ["DATABASE_PATH", "MARKER", "prepare_django", "settings_file"]

MARKER = "# --- strum: deployed settings (written by `strum init`)"
DATABASE_PATH = "/mnt/data/db.sqlite3"
_BLOCK = f'''

{MARKER} ---------------------------------------
import os as _strum_os

# Static files: `strum deploy` runs collectstatic into STATIC_ROOT inside the package, and
# WhiteNoise serves them (whitenoise is a dependency of the project).
STATIC_ROOT = BASE_DIR / "staticfiles"
_strum_whitenoise = "whitenoise.middleware.WhiteNoiseMiddleware"
if _strum_whitenoise not in MIDDLEWARE:
    _strum_security = "django.middleware.security.SecurityMiddleware"
    _strum_at = MIDDLEWARE.index(_strum_security) + 1 if _strum_security in MIDDLEWARE else 0
    MIDDLEWARE.insert(_strum_at, _strum_whitenoise)

if _strum_os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # deployed: the code is read-only
    # SQLite on the stage's volume (the config's stages.dev.volumes: data = "/mnt/data"),
    # which outlives deploys. On AWS give the stage an EFS access point for it (a volume
    # with efs = "arn:aws:elasticfilesystem:...", in a vpc), or better, set DATABASES to
    # a real database (PostgreSQL on RDS, ...) for anything with concurrent writers.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["NAME"] = "{DATABASE_PATH}"
    # Function URLs: 127.0.0.1 on strum's platform, <id>.lambda-url.<region>.on.aws on AWS.
    _strum_region = _strum_os.environ.get("AWS_REGION", "")
    _strum_url_host = f".lambda-url.{{_strum_region}}.on.aws"
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost", _strum_url_host]
'''
_LOCKS = ("uv.lock", "pylock.toml", "poetry.lock")


def settings_file(project_dir: Path, module: str) -> Path | None:
    """The file of the settings ``module`` (a module or a package), if it is there."""
    base = Path(project_dir, *module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def prepare_django(project_dir: Path, settings_module: str) -> list[str]:
    """Make the Django project at ``project_dir`` deployable; what was done, or is left to do."""
    changes = []
    path = settings_file(project_dir, settings_module)
    if path is None:
        changes.append(f"{settings_module} was not found, so its settings were not changed")
    else:
        changes.append(_settings(path, project_dir))
    changes += _dependencies(project_dir)
    return [change for change in changes if change]


def _settings(path: Path, project_dir: Path) -> str:
    text = path.read_text(encoding="utf-8")
    shown = path.relative_to(project_dir).as_posix()
    if MARKER in text:
        return ""
    missing = [
        name
        for name in ("BASE_DIR", "MIDDLEWARE", "DATABASES", "ALLOWED_HOSTS")
        if name not in text
    ]
    if missing:
        return (
            f"{shown} defines no {', '.join(missing)}, so strum did not change it: set STATIC_ROOT,"
            " serve it with WhiteNoise, and put the database somewhere writable when deployed"
        )
    new_text = text.rstrip("\n") + "\n" + _BLOCK
    ast.parse(new_text)  # never leave settings Python cannot read
    partial = path.with_name(f".{path.name}.strum-init")
    partial.write_text(new_text, encoding="utf-8")
    os.replace(partial, path)
    return (
        f"{shown}: static files collected at build time and served by WhiteNoise; deployed, "
        f"the SQLite database is {DATABASE_PATH} on the stage's volume"
    )


def _dependencies(project_dir: Path) -> list[str]:
    wanted = {"django": _django_requirement(), "whitenoise": "whitenoise>=6"}
    requirements = project_dir / "requirements.txt"
    lock = next((name for name in _LOCKS if (project_dir / name).is_file()), None)
    if lock is None and requirements.is_file():
        text = requirements.read_text(encoding="utf-8")
        named = {_name(line) for line in text.splitlines()}
        missing = [line for name, line in wanted.items() if name not in named]
        if not missing:
            return []
        requirements.write_text(text.rstrip("\n") + "\n" + "\n".join(missing) + "\n")
        return [f"requirements.txt: added {', '.join(missing)}"]
    pyproject = project_dir / "pyproject.toml"
    if lock is None and not pyproject.is_file():
        requirements.write_text("\n".join(wanted.values()) + "\n")
        return [f"requirements.txt: {', '.join(wanted.values())} (the package's dependencies)"]
    declared = (project_dir / lock).read_text() if lock else pyproject.read_text()
    missing = [name for name in wanted if not re.search(rf"(?i)\b{name}\b", declared)]
    if not missing:
        return []
    where = (
        f"with your lock tool ({lock})" if lock else "to [project] dependencies in pyproject.toml"
    )
    return [f"add {' and '.join(missing)} {where}: the deployed function needs them"]


def _name(line: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return match.group(1).lower().replace("_", "-") if match else ""


def _django_requirement() -> str:
    """Django at the minor version installed here (the one ``startproject`` wrote for)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = version("django").split(".")[:2]
    except (PackageNotFoundError, ValueError):
        return "django>=5"
    return f"django>={major}.{minor},<{major}.{int(minor) + 1}"
