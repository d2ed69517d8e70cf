"""Finding the web app in a project, for ``strum init``, by reading files - never importing them.

``detect_apps`` walks the project's Python files and parses them with ``ast``:

- Django: ``manage.py`` setting ``DJANGO_SETTINGS_MODULE`` (its settings module is the app);
- app objects built at module level by a known framework: ``Flask(...)``, ``Quart(...)``,
  ``FastAPI(...)``, ``Starlette(...)``, ``Litestar(...)``, ``falcon.App(...)``,
  ``Bottle(...)``, Pyramid's ``config.make_wsgi_app()``, Django's
  ``get_wsgi_application()`` / ``get_asgi_application()``; names are resolved through the
  module's imports, so ``from flask import Flask as F; app = F(...)`` counts;
- ``app = create_app()`` (an app factory called at module level);
- plain callables: ``def application(environ, start_response)`` (WSGI) and
  ``async def app(scope, receive, send)`` (ASGI).

Candidates come back best first. ``render_config`` turns one into the TOML to write and
``write_config`` writes it: into ``pyproject.toml`` when the project has one, otherwise
into a new ``strum.toml``; an existing config is replaced only with ``force``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from strum.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ast
    from collections.abc import Callable
    from typing import Any

__all__ = ["Candidate", "config_destination", "detect_apps", "render_config", "write_config"]

# Never part of the app: tooling, environments, tests, docs and build output.
SKIPPED_DIRS = frozenset(
    {
        "node_modules",
        "__pycache__",
        "site-packages",
        "venv",
        "env",
        "build",
        "dist",
        "tests",
        "test",
        "docs",
        "migrations",
    }
)
# Directories whose apps are probably not *the* app: ranked last.
SIDE_DIRS = frozenset({"examples", "example", "samples", "demo", "demos", "scripts", "tools"})
CONVENTIONAL_MODULES = ("app", "main", "wsgi", "asgi", "application", "server", "api", "web")
CONVENTIONAL_NAMES = ("app", "application", "api")
MAX_FILES = 5000
MAX_BYTES = 1_000_000
# Fully qualified constructor -> (framework, interface).
CONSTRUCTORS = {
    "flask.Flask": ("Flask", "wsgi"),
    "flask.app.Flask": ("Flask", "wsgi"),
    "quart.Quart": ("Quart", "asgi"),
    "fastapi.FastAPI": ("FastAPI", "asgi"),
    "fastapi.applications.FastAPI": ("FastAPI", "asgi"),
    "starlette.applications.Starlette": ("Starlette", "asgi"),
    "litestar.Litestar": ("Litestar", "asgi"),
    "litestar.app.Litestar": ("Litestar", "asgi"),
    "falcon.App": ("Falcon", "wsgi"),
    "falcon.API": ("Falcon", "wsgi"),
    "falcon.asgi.App": ("Falcon", "asgi"),
    "bottle.Bottle": ("Bottle", "wsgi"),
    "bottle.default_app": ("Bottle", "wsgi"),
    "django.core.wsgi.get_wsgi_application": ("Django", "wsgi"),
    "django.core.asgi.get_asgi_application": ("Django", "asgi"),
}
FACTORY_NAMES = ("create_app", "make_app", "get_app", "build_app", "app_factory")
KIND_RANK = {"django": 0, "framework": 1, "factory": 2, "callable": 3}


@dataclass(frozen=True)
class Candidate:
    """An app strum could serve, and why ``detect_apps`` thinks so.

    ``app`` is the config value to write: ``"module:attribute"``, or for a Django project
    its settings module (``"mysite.settings"``). ``interface`` is ``"wsgi"``, ``"asgi"``
    or ``"unknown"`` (an app factory); ``reason`` says where it was found, for people.
    """

    app: str
    framework: str
    interface: str
    path: Path
    line: int
    reason: str
    kind: str = "framework"  # django | framework | factory | callable


def detect_apps(project_dir: Path) -> list[Candidate]:
    """Every app found in ``project_dir``, best first (empty if none)."""
    project_dir = Path(project_dir)
    candidates: list[Candidate] = []
    django = _django(project_dir)
    if django is not None:
        candidates.append(django)
    for path, module in _python_files(project_dir):
        tree = _parse(path)
        if tree is not None:
            candidates.extend(_apps_in(tree, path, module, project_dir))
    if django is not None:
        # The wsgi.py / asgi.py of the same Django project are the same app again.
        candidates = [c for c in candidates if c.kind == "django" or c.framework != "Django"]
    return sorted(candidates, key=_rank)


def config_destination(project_dir: Path) -> Path:
    """Where ``strum init`` writes: ``pyproject.toml`` if there is one, else ``strum.toml``."""
    pyproject = Path(project_dir) / "pyproject.toml"
    return pyproject if pyproject.is_file() else Path(project_dir) / "strum.toml"


def render_config(candidate: Candidate, *, in_pyproject: bool) -> str:
    """The config for ``candidate`` as TOML: ``[tool.strum]`` tables, or a ``strum.toml``."""
    table = "tool.strum" if in_pyproject else None
    lines = [f"[{table}]"] if table else []
    lines += [
        f"# {candidate.reason} (found by `strum init`)",
        f'app = "{candidate.app}"',
        '# python = "3.12"          # the AWS Lambda runtime; default: this machine\'s Python',
        "# memory = 512             # MB, 128-10240",
        "# timeout = 30             # seconds, 1-900",
        '# env = { GREETING = "hi" }',
        "",
        f"[{table + '.' if table else ''}stages.dev]",
        'target = "local"            # strum\'s own platform on this machine: no cloud account',
        "",
    ]
    if candidate.kind == "django":
        lines += [
            f"[{table + '.' if table else ''}stages.dev.volumes]",
            "# The SQLite database (deployed, the settings put it at /mnt/data/db.sqlite3) on a",
            "# volume of the local platform that outlives deploys. An AWS stage needs its own:",
            '# data = { path = "/mnt/data", efs = "arn:aws:elasticfilesystem:...:access-point/',
            '# fsap-..." } with a vpc = { subnets = [...], security_groups = [...] } - or a real',
            "# database (PostgreSQL on RDS) in DATABASES, and no volume.",
            'data = "/mnt/data"',
            "",
        ]
    return "\n".join(lines)


def write_config(
    project_dir: Path,
    candidate: Candidate | Callable[[bool], str],
    *,
    force: bool = False,
) -> Path:
    """Write the config for ``candidate`` (an app, or a function rendering the config for
    ``in_pyproject``) and return the file written.

    Refuses (``ConfigError``) when the project already has a strum config, unless
    ``force``; then ``[tool.strum]`` is replaced in place, or ``strum.toml`` rewritten.
    The result is parsed back before anything is written.
    """
    project_dir = Path(project_dir)
    render: Callable[[bool], str]
    if isinstance(candidate, Candidate):
        app = candidate

        def render(in_pyproject: bool) -> str:
            return render_config(app, in_pyproject=in_pyproject)
    else:
        render = candidate
    pyproject, separate = project_dir / "pyproject.toml", project_dir / "strum.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else None
    tool = _toml(text, pyproject).get("tool") if text is not None else None
    has_table = isinstance(tool, dict) and "strum" in tool
    if has_table and separate.is_file():
        raise ConfigError(
            f"{pyproject} has [tool.strum] and {separate} exists too; delete one of them first"
        )
    if (has_table or separate.is_file()) and not force:
        existing = f"{pyproject} already has [tool.strum]" if has_table else f"{separate} exists"
        raise ConfigError(f"{existing}; run `strum init --force` to replace it")
    if text is None or (separate.is_file() and not has_table):
        separate_text = render(False)
        _toml(separate_text, separate)
        _write(separate, separate_text)
        return separate
    kept = _without_strum_tables(text) if has_table else text
    snippet = render(True)
    new_text = kept.rstrip("\n") + "\n\n" + snippet
    if _toml(new_text, pyproject).get("tool") != {
        **(tool if isinstance(tool, dict) else {}),
        **_toml(snippet, pyproject)["tool"],
    }:
        raise ConfigError(
            f"could not replace [tool.strum] in {pyproject} safely; remove it by hand and run "
            "`strum init` again"
        )
    _write(pyproject, new_text)
    return pyproject


# -- finding ---------------------------------------------------------------------------


def _python_files(project_dir: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and d.isidentifier()
        )
        relative = Path(root).relative_to(project_dir).parts
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("test_") or name == "conftest.py":
                continue
            stem = name[:-3]
            if stem == "__init__" and not relative:
                continue
            parts = relative if stem == "__init__" else (*relative, stem)
            if parts and all(part.isidentifier() for part in parts):
                found.append((Path(root) / name, ".".join(parts)))
            if len(found) >= MAX_FILES:
                return found
    return found


def _parse(path: Path) -> ast.Module | None:
    import ast

    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _django(project_dir: Path) -> Candidate | None:
    import ast

    manage = project_dir / "manage.py"
    tree = _parse(manage) if manage.is_file() else None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) != 2:
            continue
        name, value = node.args
        if (
            isinstance(name, ast.Constant)
            and name.value == "DJANGO_SETTINGS_MODULE"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            settings = value.value
            from strum.config._references import find_module

            if find_module(project_dir, settings) is None:
                return None
            return Candidate(
                app=settings,
                framework="Django",
                interface="wsgi",
                path=manage,
                line=node.lineno,
                reason=f'Django project: manage.py sets DJANGO_SETTINGS_MODULE to "{settings}"',
                kind="django",
            )
    return None


def _apps_in(tree: ast.Module, path: Path, module: str, project_dir: Path) -> list[Candidate]:
    import ast

    imports = _imports(tree, module)
    where = path.relative_to(project_dir).as_posix()
    found: list[Candidate] = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if not names:
                continue
            call = node.value
            qualified = _qualified(call.func, imports)
            attribute = names[0]
            reference = f"{module}:{attribute}"
            spot = f"in {where}, line {node.lineno}"
            if qualified in CONSTRUCTORS:
                framework, interface = CONSTRUCTORS[qualified]
                reason = f'{framework} app "{attribute}" {spot}'
                found.append(Candidate(reference, framework, interface, path, node.lineno, reason))
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "make_wsgi_app":
                reason = f'Pyramid app "{attribute}" {spot}'
                found.append(Candidate(reference, "Pyramid", "wsgi", path, node.lineno, reason))
            elif qualified and qualified.rsplit(".", 1)[-1] in FACTORY_NAMES:
                call_text = qualified.rsplit(".", 1)[-1]
                reason = f'"{attribute} = {call_text}()" {spot}'
                found.append(
                    Candidate(
                        reference, "app factory", "unknown", path, node.lineno, reason, "factory"
                    )
                )
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parameters = [a.arg for a in node.args.posonlyargs + node.args.args]
            is_async = isinstance(node, ast.AsyncFunctionDef)
            interface = None
            if not is_async and parameters == ["environ", "start_response"]:
                interface = "wsgi"
            elif is_async and parameters == ["scope", "receive", "send"]:
                interface = "asgi"
            if interface is not None:
                reason = (
                    f'{interface.upper()} callable "{node.name}" in {where}, line {node.lineno}'
                )
                found.append(
                    Candidate(
                        f"{module}:{node.name}",
                        f"plain {interface.upper()}",
                        interface,
                        path,
                        node.lineno,
                        reason,
                        "callable",
                    )
                )
    return found


def _imports(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> what it was imported as (``{"F": "flask.Flask", "fa": "fastapi"}``)."""
    import ast

    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _qualified(expression: ast.expr, imports: dict[str, str]) -> str | None:
    import ast

    attributes: list[str] = []
    while isinstance(expression, ast.Attribute):
        attributes.append(expression.attr)
        expression = expression.value
    if not isinstance(expression, ast.Name):
        return None
    base = imports.get(expression.id, expression.id)
    return ".".join([base, *reversed(attributes)])


def _rank(candidate: Candidate) -> tuple[int, int, int, int, int, str]:
    module, _, attribute = candidate.app.partition(":")
    parts = module.split(".")
    return (
        KIND_RANK[candidate.kind],
        int(any(part in SIDE_DIRS for part in parts)),
        int(parts[-1] not in CONVENTIONAL_MODULES),
        int(attribute not in CONVENTIONAL_NAMES),
        len(parts),
        candidate.app,
    )


# -- writing ---------------------------------------------------------------------------


def _toml(text: str, path: Path) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}; fix it, then run strum init") from None


def _without_strum_tables(text: str) -> str:
    """``text`` without the ``[tool.strum]`` table and its ``[tool.strum.*]`` subtables."""
    import re

    header = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]")
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        match = header.match(line)
        if match:
            name = match.group(1).replace(" ", "").replace('"', "")
            skipping = name == "tool.strum" or name.startswith("tool.strum.")
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _write(path: Path, text: str) -> None:
    # Write beside the target and rename, so an interrupted init never leaves half a file.
    partial = path.with_name(f".{path.name}.strum-init")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
