"""Where a project's runtime dependencies are declared, and reading them.

In order of preference: ``uv.lock``, ``pylock.toml`` (PEP 751), ``poetry.lock``,
``requirements.txt``, ``[project.dependencies]``. Lock files are walked from the project's
own runtime dependencies (never dev groups), evaluating environment markers for the
*target*, so what is installed is exactly what was locked and nothing a test tool needs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from strum.build.target import Target
from strum.errors import StrumError


class DependencyError(StrumError):
    """The project's dependencies cannot be read or installed for the target."""

    exit_code = 4


@dataclass(frozen=True)
class Dependencies:
    """The requirements to install and where they came from.

    ``requirements`` are pip requirement lines (exact pins when a lock file was used).
    ``fingerprint`` changes exactly when the installed result could change (the source's
    content and the target), which is what the layer cache is keyed by.
    """

    source: str  # "uv.lock", "requirements.txt", ... or "none"
    requirements: tuple[str, ...]
    fingerprint: str
    locked: bool
    direct: frozenset[str] = frozenset()  # canonical names the project asks for itself


def find_dependencies(project: Path, target: Target) -> Dependencies:
    """Read the project's runtime dependencies from its preferred source."""
    readers = (
        ("uv.lock", _from_uv_lock),
        ("pylock.toml", _from_pylock),
        ("poetry.lock", _from_poetry_lock),
        ("requirements.txt", _from_requirements),
    )
    for name, reader in readers:
        path = project / name
        if path.is_file():
            try:
                requirements, locked = reader(project, path, target)
            except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
                raise DependencyError(f"cannot read {path}: {exc}") from exc
            return _dependencies(
                name, requirements, locked, path.read_bytes(), target, _direct_names(project)
            )
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        data = _toml(pyproject)
        listed = data.get("project", {}).get("dependencies", [])
        requirements = [line for line in listed if _applies(line, target)]
        return _dependencies(
            "pyproject.toml",
            requirements,
            False,
            repr(listed).encode(),
            target,
            frozenset(canonicalize_name(Requirement(line).name) for line in requirements),
        )
    return _dependencies("none", [], True, b"", target, frozenset())


def _direct_names(project: Path) -> frozenset[str]:
    """Names the project depends on itself (not through another package)."""
    names: set[str] = set()
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        data = _toml(pyproject)
        for line in data.get("project", {}).get("dependencies", []):
            names.add(canonicalize_name(Requirement(line).name))
        for name in data.get("tool", {}).get("poetry", {}).get("dependencies", {}):
            names.add(canonicalize_name(name))
    requirements = project / "requirements.txt"
    if requirements.is_file():
        for raw in requirements.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                try:
                    names.add(canonicalize_name(Requirement(line).name))
                except InvalidRequirement:
                    continue
    return frozenset(names)


def _dependencies(
    source: str,
    requirements: list[str],
    locked: bool,
    content: bytes,
    target: Target,
    direct: frozenset[str],
) -> Dependencies:
    cleaned = tuple(sorted(set(requirements)))
    digest = hashlib.sha256()
    for part in (source, target.key, *cleaned):
        digest.update(part.encode() + b"\0")
    digest.update(content)
    return Dependencies(source, cleaned, digest.hexdigest()[:32], locked, direct)


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def _applies(line: str, target: Target) -> bool:
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        raise DependencyError(f"invalid requirement {line!r}: {exc}") from None
    return requirement.marker is None or requirement.marker.evaluate(target.marker_environment())


def _project_name(project: Path) -> str | None:
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return None
    data = _toml(pyproject)
    name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")
    return canonicalize_name(name) if name else None


def _marker_ok(marker: str | None, target: Target) -> bool:
    return not marker or Marker(marker).evaluate(target.marker_environment())


def _from_uv_lock(project: Path, path: Path, target: Target) -> tuple[list[str], bool]:
    lock = _toml(path)
    packages: dict[str, Any] = {canonicalize_name(p["name"]): p for p in lock.get("package", [])}
    root_name = _project_name(project)
    root = packages.get(root_name) if root_name else None
    if root is None:  # a lock without the project itself: everything in it
        return [f"{p['name']}=={p['version']}" for p in packages.values() if "version" in p], True
    wanted: dict[str, str] = {}
    pending = [(d, root) for d in root.get("dependencies", [])]
    while pending:
        dependency, _parent = pending.pop()
        if not _marker_ok(dependency.get("marker"), target):
            continue
        name = canonicalize_name(dependency["name"])
        package = packages.get(name)
        if package is None or name in wanted or name == root_name:
            continue
        source = package.get("source", {})
        if "editable" in source or "directory" in source or "virtual" in source:
            raise DependencyError(
                f"{name} is a local path dependency in uv.lock; strum packages published "
                "distributions only - vendor it into the project or publish it"
            )
        wanted[name] = package["version"]
        pending += [(d, package) for d in package.get("dependencies", [])]
        for extra in dependency.get("extra", []):
            pending += [
                (d, package) for d in package.get("optional-dependencies", {}).get(extra, [])
            ]
    return [f"{name}=={version}" for name, version in wanted.items()], True


def _from_pylock(project: Path, path: Path, target: Target) -> tuple[list[str], bool]:
    lock = _toml(path)
    requirements = []
    for package in lock.get("packages", []):
        if not _marker_ok(package.get("marker"), target):
            continue
        if "version" not in package:
            raise DependencyError(
                f"pylock.toml entry {package.get('name')!r} has no version (a VCS or directory "
                "source); strum packages published distributions only"
            )
        requirements.append(f"{package['name']}=={package['version']}")
    return requirements, True


_POETRY_DEV_GROUPS = {"dev", "test", "tests", "docs", "lint", "typing"}


def _from_poetry_lock(project: Path, path: Path, target: Target) -> tuple[list[str], bool]:
    lock = _toml(path)
    packages = {canonicalize_name(p["name"]): p for p in lock.get("package", [])}
    pyproject = _toml(project / "pyproject.toml") if (project / "pyproject.toml").is_file() else {}
    roots: list[str] = []
    for line in pyproject.get("project", {}).get("dependencies", []):
        roots.append(Requirement(line).name)
    for name in pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}):
        if name.lower() != "python":
            roots.append(name)
    if not roots:  # old-style lock without a pyproject to start from: main category only
        return [
            f"{p['name']}=={p['version']}"
            for p in packages.values()
            if p.get("category", "main") == "main"
            and not _POETRY_DEV_GROUPS & set(p.get("groups", []))
        ], True
    wanted: dict[str, str] = {}
    pending = [canonicalize_name(name) for name in roots]
    while pending:
        name = pending.pop()
        package = packages.get(name)
        if package is None or name in wanted:
            continue
        wanted[name] = package["version"]
        for dependency, spec in package.get("dependencies", {}).items():
            markers = spec.get("markers") if isinstance(spec, dict) else None
            if isinstance(spec, dict) and spec.get("optional"):
                continue
            if _marker_ok(markers, target):
                pending.append(canonicalize_name(dependency))
    return [f"{name}=={version}" for name, version in wanted.items()], True


_REQUIREMENT_OPTION = re.compile(r"^\s*-")


def _from_requirements(project: Path, path: Path, target: Target) -> tuple[list[str], bool]:
    requirements: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-e", "--editable")) or "://" in line or line.startswith((".", "/")):
            raise DependencyError(
                f"{path.name}: {line!r} is a path or URL requirement; strum packages published "
                "distributions only"
            )
        if _REQUIREMENT_OPTION.match(line):
            if line.startswith(("-r", "--requirement")):
                nested = line.split(maxsplit=1)[1] if " " in line else line[2:]
                more, _ = _from_requirements(project, path.parent / nested.strip(), target)
                requirements += more
                continue
            raise DependencyError(
                f"{path.name}: option {line!r} is not supported; list plain requirements "
                "(and put index settings in pip's configuration)"
            )
        if _applies(line, target):
            requirements.append(line)
    # Even when every line is pinned, a requirements file may list only top-level packages;
    # pip resolves the rest (for a complete pip-compile output it resolves to the same set).
    return requirements, False
