"""Which of the project's files go into the function package.

Everything under the project directory except what never belongs in a function: version
control, virtualenvs, caches, tests, ``node_modules``, build outputs and strum's own state -
plus the user's ``exclude`` patterns (and minus their ``include`` patterns). Patterns are
globs matched against the path relative to the project (``docs/**``, ``*.md``) or against
any single path component (``fixtures``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    ".tox",
    ".nox",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".coverage",
    "htmlcov",
    "node_modules",
    "tests",
    "test",
    "build",
    "dist",
    "*.egg-info",
    ".strum",
    ".idea",
    ".vscode",
    ".DS_Store",
    "strum.toml",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "pylock.toml",
    "requirements*.txt",
)


def _matches(relative: str, name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(relative, pattern):
            return True
        if pattern.endswith("/**") and (
            relative == pattern[:-3] or relative.startswith(pattern[:-2])
        ):
            return True
    return False


def project_files(
    root: Path, exclude: Iterable[str] = (), include: Iterable[str] = ()
) -> Iterator[tuple[str, Path]]:
    """``(posix path inside the package, file)`` for every file that belongs in it, sorted.

    Symlinks pointing outside the project are refused: a package must not smuggle in files
    from elsewhere on the machine.
    """
    excludes = (*DEFAULT_EXCLUDES, *exclude)
    includes = tuple(include)
    root = root.resolve()
    found: list[tuple[str, Path]] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(directory)
        rel_dir = base.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for name in dirnames:
            relative = prefix + name
            if _matches(relative, name, excludes) and not _matches(relative, name, includes):
                continue
            if (base / name).is_symlink():
                continue  # never follow directory links out of the project
            kept.append(name)
        dirnames[:] = sorted(kept)
        for name in sorted(filenames):
            relative = prefix + name
            path = base / name
            if _matches(relative, name, excludes) and not _matches(relative, name, includes):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    raise ValueError(
                        f"{relative} is a link to {target}, outside the project; copy the file "
                        "in or add the link to `exclude`"
                    )
            found.append((relative, path))
    return iter(sorted(found))


def excluded_imports(
    root: Path, shipped: Iterable[tuple[str, Path]], exclude: Iterable[str] = ()
) -> list[str]:
    """Warnings for shipped modules importing project modules that the excludes left out.

    Static and best-effort: ``import x`` / ``from x import y`` statements (absolute or
    relative) anywhere in a shipped ``.py`` file are resolved against the project directory;
    an import that names a project file or package which is not in the package would fail
    with ``ModuleNotFoundError`` in the function. Imports the project has no file for
    (dependencies, the standard library) are not this check's business.
    """
    import ast

    root = root.resolve()
    shipped = list(shipped)
    present = {arcname for arcname, _ in shipped}
    user_patterns = tuple(exclude)
    warnings: dict[str, str] = {}
    python_files = sorted((a, p) for a, p in shipped if a.endswith(".py"))
    for arcname, path in python_files:
        try:
            tree = ast.parse(path.read_bytes(), filename=arcname)
        except (SyntaxError, ValueError, OSError):
            continue
        package = arcname[: -len(".py")].split("/")[:-1]
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > len(package) + 1:
                    continue  # beyond the top of the project
                base = package[: len(package) - node.level + 1] if node.level else []
                module = [*base, *(node.module.split(".") if node.module else [])]
                names = [".".join(module)] if module else []
                names += [".".join([*module, alias.name]) for alias in node.names]
            for name in names:
                missing = _missing_module(root, present, name)
                if missing and missing not in warnings:
                    rule = _excluding_rule(missing, user_patterns)
                    warnings[missing] = (
                        f"{arcname} imports {name}, but {missing} is left out of the package "
                        f"({rule}); the function would fail with ModuleNotFoundError - add "
                        f'include = ["{missing}"] to the config, or stop importing it'
                    )
    return list(warnings.values())


def _missing_module(root: Path, present: set[str], name: str) -> str | None:
    """The project path of module ``name`` if the project has it but the package does not."""
    parts = [part for part in name.split(".") if part]
    for depth in range(len(parts), 0, -1):
        stem = "/".join(parts[:depth])
        for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
            if candidate in present:
                return None
            if (root / candidate).is_file():
                return candidate
        if (root / stem).is_dir() and any(p.startswith(stem + "/") for p in present):
            return None  # a namespace package that ships
    return None


def _excluding_rule(relative: str, user_patterns: tuple[str, ...]) -> str:
    parts = relative.split("/")
    for patterns, whose in ((user_patterns, "your exclude"), (DEFAULT_EXCLUDES, "default exclude")):
        for index in range(len(parts)):
            prefix = "/".join(parts[: index + 1])
            if _matches(prefix, parts[index], patterns):
                matched = next(p for p in patterns if _matches(prefix, parts[index], (p,)))
                return f'{whose} "{matched}"'
    return "excluded"
