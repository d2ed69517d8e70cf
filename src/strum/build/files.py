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
