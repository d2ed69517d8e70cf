"""``strum init`` on Django projects: the settings block, the dependencies, and the config."""

from __future__ import annotations

import sys

import tomllib

from strum.config import Volume, load_config
from strum.detect import detect_apps, write_config
from strum.django_setup import MARKER, prepare_django

SETTINGS = """\
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
ALLOWED_HOSTS = []
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "x.Middleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db"}}
"""
MANAGE = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"


def project(tmp_path, **files):
    (tmp_path / "mysite").mkdir(parents=True)
    (tmp_path / "mysite" / "__init__.py").write_text("")
    (tmp_path / "mysite" / "settings.py").write_text(SETTINGS)
    (tmp_path / "manage.py").write_text(MANAGE)
    for name, text in files.items():
        (tmp_path / name.replace("_", ".", 1)).write_text(text)
    return tmp_path


def settings_namespace(tmp_path, **environ):
    namespace = {"__file__": str(tmp_path / "mysite" / "settings.py")}
    import os

    saved = dict(os.environ)
    os.environ.update(environ)
    try:
        exec((tmp_path / "mysite" / "settings.py").read_text(), namespace)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return namespace


def test_the_settings_serve_static_files_and_keep_sqlite_on_the_volume(tmp_path):
    root = project(tmp_path)
    prepare_django(root, "mysite.settings")
    assert prepare_django(root, "mysite.settings") == []  # twice changes nothing
    assert (root / "mysite" / "settings.py").read_text().count(MARKER) == 1
    local = settings_namespace(root)
    assert local["MIDDLEWARE"][1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert local["STATIC_ROOT"] == root / "staticfiles"
    assert local["DATABASES"]["default"]["NAME"] == root / "db"  # runserver is untouched
    deployed = settings_namespace(root, AWS_LAMBDA_FUNCTION_NAME="f", AWS_REGION="eu-west-1")
    assert deployed["DATABASES"]["default"]["NAME"] == "/mnt/data/db.sqlite3"
    assert ".lambda-url.eu-west-1.on.aws" in deployed["ALLOWED_HOSTS"]


def test_dependencies_are_written_added_or_asked_for(tmp_path):
    fresh = project(tmp_path / "fresh")
    changes = prepare_django(fresh, "mysite.settings")
    assert (fresh / "requirements.txt").read_text().splitlines()[1] == "whitenoise>=6"
    assert any("requirements.txt" in change for change in changes)

    listed = project(tmp_path / "listed", requirements_txt="Django==5.2\n")
    prepare_django(listed, "mysite.settings")
    assert (listed / "requirements.txt").read_text() == "Django==5.2\nwhitenoise>=6\n"

    declared = project(
        tmp_path / "declared", pyproject_toml='[project]\nname = "s"\ndependencies = ["django"]\n'
    )
    changes = prepare_django(declared, "mysite.settings")
    assert "add whitenoise to [project] dependencies in pyproject.toml" in changes[-1]
    assert not (declared / "requirements.txt").exists()


def test_the_config_gives_the_local_stage_its_volume(tmp_path):
    root = project(tmp_path)
    (candidate,) = detect_apps(root)
    path = write_config(root, candidate)
    assert tomllib.loads(path.read_text())["stages"]["dev"]["volumes"] == {"data": "/mnt/data"}
    assert load_config(root).volumes == (Volume("data", "/mnt/data"),)
    assert sys.modules.get("mysite") is None  # read, never imported
