"""App detection for ``strum init`` on tiny real project trees, and writing the config."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import tomllib

from strum.config import load_config
from strum.detect import Candidate, config_destination, detect_apps, render_config, write_config
from strum.errors import ConfigError


def tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


MANAGE_PY = """\
    #!/usr/bin/env python
    import os
    import sys


    def main():
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)


    if __name__ == "__main__":
        main()
"""

DJANGO = {
    "manage.py": MANAGE_PY,
    "mysite/__init__.py": "",
    "mysite/settings.py": "SECRET_KEY = 'x'\nINSTALLED_APPS = []\nROOT_URLCONF = 'mysite.urls'\n",
    "mysite/urls.py": "urlpatterns = []\n",
    "mysite/wsgi.py": """\
        import os
        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        application = get_wsgi_application()
    """,
    "mysite/asgi.py": """\
        from django.core.asgi import get_asgi_application

        application = get_asgi_application()
    """,
}


def apps(root) -> list[tuple[str, str, str]]:
    return [(c.app, c.framework, c.interface) for c in detect_apps(root)]


def test_django_via_manage_py(tmp_path):
    tree(tmp_path, DJANGO)
    (candidate,) = detect_apps(tmp_path)
    assert (candidate.app, candidate.framework, candidate.kind) == (
        "mysite.settings",
        "Django",
        "django",
    )
    assert candidate.reason == (
        'Django project: manage.py sets DJANGO_SETTINGS_MODULE to "mysite.settings"'
    )


def test_django_without_its_settings_file_is_not_offered(tmp_path):
    tree(tmp_path, {"manage.py": MANAGE_PY})
    assert apps(tmp_path) == []


def test_flask(tmp_path):
    tree(tmp_path, {"hello.py": "from flask import Flask\n\napp = Flask(__name__)\n"})
    (candidate,) = detect_apps(tmp_path)
    assert (candidate.app, candidate.framework, candidate.interface) == (
        "hello:app",
        "Flask",
        "wsgi",
    )
    assert candidate.reason == 'Flask app "app" in hello.py, line 3'
    assert candidate.line == 3


@pytest.mark.parametrize(
    ("source", "framework", "interface"),
    [
        ("from fastapi import FastAPI\napi = FastAPI()\n", "FastAPI", "asgi"),
        ("import fastapi as fa\napi = fa.FastAPI(title='x')\n", "FastAPI", "asgi"),
        ("from starlette.applications import Starlette\napi = Starlette()\n", "Starlette", "asgi"),
        ("from litestar import Litestar\napi = Litestar(route_handlers=[])\n", "Litestar", "asgi"),
        ("from quart import Quart\napi = Quart(__name__)\n", "Quart", "asgi"),
        ("import falcon\napi = falcon.App()\n", "Falcon", "wsgi"),
        ("import falcon.asgi\napi = falcon.asgi.App()\n", "Falcon", "asgi"),
        ("from bottle import Bottle\napi: Bottle = Bottle()\n", "Bottle", "wsgi"),
        (
            "from pyramid.config import Configurator\nconfig = Configurator()\n"
            "api = config.make_wsgi_app()\n",
            "Pyramid",
            "wsgi",
        ),
        ("from flask import Flask as F\napi = F(__name__)\n", "Flask", "wsgi"),
    ],
)
def test_frameworks(tmp_path, source, framework, interface):
    tree(tmp_path, {"service/web.py": source})
    assert apps(tmp_path) == [("service.web:api", framework, interface)]


def test_plain_wsgi_and_asgi_callables(tmp_path):
    tree(
        tmp_path,
        {
            "wsgi_app.py": "def application(environ, start_response):\n    return []\n",
            "asgi_app.py": "async def app(scope, receive, send):\n    pass\n",
            "other.py": "def handler(event, context):\n    return {}\n",
        },
    )
    assert sorted(apps(tmp_path)) == [
        ("asgi_app:app", "plain ASGI", "asgi"),
        ("wsgi_app:application", "plain WSGI", "wsgi"),
    ]


def test_app_factory_called_at_module_level(tmp_path):
    tree(
        tmp_path,
        {
            "myapp/__init__.py": """\
                from flask import Flask

                def create_app():
                    app = Flask(__name__)
                    return app
            """,
            "wsgi.py": "from myapp import create_app\n\napp = create_app()\n",
        },
    )
    (candidate,) = detect_apps(tmp_path)
    assert (candidate.app, candidate.kind, candidate.interface) == (
        "wsgi:app",
        "factory",
        "unknown",
    )
    assert candidate.reason == '"app = create_app()" in wsgi.py, line 3'


def test_ranking_prefers_frameworks_conventional_names_and_the_main_tree(tmp_path):
    tree(
        tmp_path,
        {
            "examples/demo.py": "from flask import Flask\napp = Flask(__name__)\n",
            "tools/ping.py": "def application(environ, start_response):\n    return []\n",
            "service/handlers.py": "from fastapi import FastAPI\nrouter_app = FastAPI()\n",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    assert [c.app for c in detect_apps(tmp_path)] == [
        "main:app",
        "service.handlers:router_app",
        "examples.demo:app",
        "tools.ping:application",
    ]


def test_skips_tests_environments_and_unimportable_paths(tmp_path):
    flask_app = "from flask import Flask\napp = Flask(__name__)\n"
    tree(
        tmp_path,
        {
            "tests/app.py": flask_app,
            "test_app.py": flask_app,
            ".venv/lib/site.py": flask_app,
            "node_modules/x/app.py": flask_app,
            "my-scripts/app.py": flask_app,
            "broken.py": "def (:\n",
        },
    )
    assert apps(tmp_path) == []


def test_detection_never_imports_user_code(tmp_path):
    marker = tmp_path / "imported"
    tree(
        tmp_path,
        {
            "app.py": f"open({str(marker)!r}, 'w').close()\n"
            "from flask import Flask\napp = Flask(__name__)\n"
        },
    )
    assert apps(tmp_path) == [("app:app", "Flask", "wsgi")]
    assert not marker.exists()


# -- rendering and writing -----------------------------------------------------------------


FLASK = Candidate("hello:app", "Flask", "wsgi", None, 3, 'Flask app "app" in hello.py, line 3')  # type: ignore[arg-type]


def test_render_for_pyproject():
    text = render_config(FLASK, in_pyproject=True)
    assert text.startswith("[tool.strum]\n")
    data = tomllib.loads(text)
    assert data == {"tool": {"strum": {"app": "hello:app", "stages": {"dev": {"target": "local"}}}}}


def test_render_for_strum_toml():
    data = tomllib.loads(render_config(FLASK, in_pyproject=False))
    assert data == {"app": "hello:app", "stages": {"dev": {"target": "local"}}}


def test_destination(tmp_path):
    assert config_destination(tmp_path) == tmp_path / "strum.toml"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert config_destination(tmp_path) == tmp_path / "pyproject.toml"


def test_write_appends_to_pyproject_and_loads(tmp_path):
    tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "hello"\n\n[tool.ruff]\nline-length = 100\n',
            "hello.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
    )
    (candidate,) = detect_apps(tmp_path)
    assert write_config(tmp_path, candidate) == tmp_path / "pyproject.toml"
    data = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert data["tool"]["ruff"] == {"line-length": 100}
    config = load_config(tmp_path)
    assert (config.app, config.function_name, config.target) == ("hello:app", "hello-dev", "local")


def test_write_creates_strum_toml_without_pyproject(tmp_path):
    tree(tmp_path, DJANGO)
    (candidate,) = detect_apps(tmp_path)
    assert write_config(tmp_path, candidate) == tmp_path / "strum.toml"
    config = load_config(tmp_path)
    assert (config.app, config.django_settings) == (None, "mysite.settings")


def test_write_never_overwrites_without_force(tmp_path):
    tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "hello"\n\n[tool.strum]\napp = "old:app"\n\n'
                '[tool.strum.stages.prod]\ntarget = "aws"\n\n[tool.black]\nline-length = 90\n'
            ),
            "hello.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
    )
    (candidate,) = detect_apps(tmp_path)
    with pytest.raises(ConfigError) as info:
        write_config(tmp_path, candidate)
    assert str(info.value) == (
        f"{tmp_path / 'pyproject.toml'} already has [tool.strum]; run `strum init --force` to "
        "replace it"
    )
    write_config(tmp_path, candidate, force=True)
    data = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert data["tool"]["strum"] == {"app": "hello:app", "stages": {"dev": {"target": "local"}}}
    assert data["tool"]["black"] == {"line-length": 90}
    assert data["project"] == {"name": "hello"}


def test_write_refuses_to_replace_strum_toml_without_force(tmp_path):
    tree(
        tmp_path,
        {
            "strum.toml": 'app = "old:app"\n',
            "hello.py": "from flask import Flask\napp = Flask(x)\n",
        },
    )
    (candidate,) = detect_apps(tmp_path)
    with pytest.raises(ConfigError) as info:
        write_config(tmp_path, candidate)
    assert str(info.value) == (
        f"{tmp_path / 'strum.toml'} exists; run `strum init --force` to replace it"
    )
    write_config(tmp_path, candidate, force=True)
    assert tomllib.loads((tmp_path / "strum.toml").read_text())["app"] == "hello:app"


def test_detect_imports_nothing_heavy_at_import():
    code = "import sys\nimport strum.detect\nprint(sorted({'tomllib', 'typing', 'difflib'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_public_names_are_pinned_and_documented():
    import strum.detect

    assert strum.detect.__all__ == [
        "Candidate",
        "config_destination",
        "detect_apps",
        "render_config",
        "write_config",
    ]
    for name in strum.detect.__all__:
        assert getattr(strum.detect, name).__doc__, name
