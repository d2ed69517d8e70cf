"""Building function packages: the app code zip and the dependency layer.

``build(spec)`` turns a project into an ``Artifact`` for one target:

- the code zip: the project's own files (minus excludes), strum's stdlib-only runtime
  (``strum.adapter``, ``strum.runtime``) and the frozen manifest the entry router reads;
- the dependency zip: the runtime dependencies installed for the target, cached by
  (dependency fingerprint, target) so an unchanged lock never reinstalls anything;
- for a Django project, its static files, collected at build time (``strum.build.static``)
  into the code zip where ``STATIC_ROOT`` says.

Both are deterministic (``strum.build.zipfiles``) and named by content hash. When the host
interpreter matches the target's Python, bytecode is compiled into the packages, because
Lambda's code directory is read-only and modules shipped without bytecode are compiled again
on every cold start.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.build.cache import CacheSummary, cache_in_use, cache_summary, prune_cache, touch
from strum.build.files import excluded_imports, project_files
from strum.build.install import install
from strum.build.report import SizeReport, check_limits, human, measure
from strum.build.sources import DependencyError, find_dependencies
from strum.build.static import CollectedStatic, collect_static
from strum.build.target import Target
from strum.build.zipfiles import Entry, file_sha256, is_executable, write_zip, zip_entries

__all__ = [
    "Artifact",
    "CacheSummary",
    "DependencyError",
    "PackageSpec",
    "Target",
    "build",
    "cache_in_use",
    "cache_summary",
    "human",
    "prune_cache",
]

MANIFEST_NAME = "strum_manifest.json"
# The parts of strum that ship inside every function: standard library only.
_SHIPPED = ("__init__.py", "errors.py", "py.typed", "adapter", "runtime")


@dataclass(frozen=True)
class PackageSpec:
    """What to package: a project directory, its manifest and its file rules."""

    project: Path
    name: str
    target: Target
    manifest: dict[str, Any]
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".strum" / "cache")
    out_dir: Path | None = None


@dataclass(frozen=True)
class Artifact:
    """A built package: code zip, optional dependency zip, and what is in them."""

    target: Target
    code_zip: Path
    code_sha256: str
    deps_zip: Path | None
    deps_sha256: str | None
    dependency_source: str
    report: SizeReport
    bytecode: bool
    notes: tuple[str, ...] = ()

    def function_zip(self, cache_dir: Path) -> tuple[Path, str]:
        """One zip with code and dependencies together (the local platform has no layers).

        Stored uncompressed - it only travels over loopback - and cached by the pair of
        input hashes, so an unchanged build reuses the same file.
        """
        if self.deps_zip is None:
            return self.code_zip, self.code_sha256
        merged = cache_dir / "functions" / f"{self.code_sha256[:20]}-{self.deps_sha256}.zip"
        if merged.exists():
            touch(merged)
        else:
            entries = {entry.arcname: entry for entry in zip_entries(self.deps_zip)}
            entries.update({entry.arcname: entry for entry in zip_entries(self.code_zip)})
            write_zip(entries.values(), merged, compress=False)
        return merged, file_sha256(merged)


Progress = Callable[[str], None]


def build(spec: PackageSpec, progress: Progress = lambda message: None) -> Artifact:
    """Build the code zip and (cached) dependency zip for ``spec.target``. The cache is
    held shared meanwhile; callers that use the zips afterwards (a deploy uploading them)
    hold it too, with ``cache_in_use``."""
    with cache_in_use(spec.cache_dir):
        return _build(spec, progress)


def _build(spec: PackageSpec, progress: Progress) -> Artifact:
    target = spec.target
    host = Target.local()
    bytecode = host.python == target.python
    notes: list[str] = []
    if not bytecode:
        notes.append(
            f"no bytecode: this machine runs Python {host.python}, the target is "
            f"{target.python}; every cold start will compile the modules it imports (for a "
            "Flask app about 1 s more). Build with Python "
            f"{target.python} to include it."
        )
    cache = spec.cache_dir
    out_dir = spec.out_dir or cache / "packages"
    deps = find_dependencies(spec.project, target)
    deps_zip: Path | None = None
    deps_sha: str | None = None
    if deps.requirements:
        deps_zip = cache / "layers" / f"{deps.fingerprint}{'-pyc' if bytecode else ''}.zip"
        if deps_zip.exists():
            touch(deps_zip)
            progress(f"dependencies unchanged ({deps.source}), reusing the cached layer")
        else:
            with tempfile.TemporaryDirectory(prefix="strum-layer-") as scratch:
                site = Path(scratch) / "site"
                site.mkdir()
                install(deps, target, site, progress)
                progress("zipping the dependency layer")
                write_zip(_tree_entries(site, bytecode, cache), deps_zip)
        deps_sha = file_sha256(deps_zip)
    progress("packaging the app code")
    with tempfile.TemporaryDirectory(prefix="strum-code-") as scratch:
        static = _static(spec, deps_zip, Path(scratch), progress)
        code_entries = list(_code_entries(spec, bytecode, notes, static))
        staging = Path(scratch) / "code.zip"
        code_sha = write_zip(code_entries, staging)
        code_zip = out_dir / f"code-{code_sha[:20]}.zip"
        out_dir.mkdir(parents=True, exist_ok=True)
        if code_zip.exists():
            touch(code_zip)
        else:
            shutil.move(staging, code_zip)
    report = measure(code_zip, deps_zip)
    check_limits(report, target)
    return Artifact(
        target=target,
        code_zip=code_zip,
        code_sha256=code_sha,
        deps_zip=deps_zip,
        deps_sha256=deps_sha,
        dependency_source=deps.source,
        report=report,
        bytecode=bytecode,
        notes=tuple(notes),
    )


def _static(
    spec: PackageSpec, deps_zip: Path | None, scratch: Path, progress: Progress
) -> CollectedStatic | None:
    """A Django project's static files, collected for the package (None: not Django)."""
    settings = spec.manifest.get("django_settings")
    if not settings:
        return None
    site = None
    if deps_zip is not None:
        import zipfile

        site = scratch / "site"
        with zipfile.ZipFile(deps_zip) as archive:
            archive.extractall(site)
    progress("collecting the static files (collectstatic)")
    out = scratch / "static"
    out.mkdir()
    return collect_static(spec.project, str(settings), site, out)


def _code_entries(
    spec: PackageSpec, bytecode: bool, notes: list[str], static: CollectedStatic | None = None
) -> Iterable[Entry]:
    files: list[tuple[str, Path]] = list(project_files(spec.project, spec.exclude, spec.include))
    notes.extend(excluded_imports(spec.project, files, spec.exclude))
    if static is not None and static.skipped:
        notes.append(f"static files were not collected: {static.skipped}")
    if static is not None and static.prefix and static.directory is not None:
        # The collected files stand in for whatever a local collectstatic left there.
        prefix = static.prefix + "/"
        files = [(arcname, path) for arcname, path in files if not arcname.startswith(prefix)]
        files += [
            (prefix + path.relative_to(static.directory).as_posix(), path)
            for path in sorted(static.directory.rglob("*"))
            if path.is_file()
        ]
    if any(arcname.startswith("strum/") or arcname == "strum.py" for arcname, _ in files):
        raise ValueError(
            "the project has its own top-level 'strum' module, which would shadow strum's "
            "runtime in the package; rename it"
        )
    strum_root = Path(__file__).resolve().parent.parent
    for part in _SHIPPED:
        source = strum_root / part
        if source.is_file():
            files.append((f"strum/{part}", source))
        else:
            for path in sorted(source.rglob("*.py")):
                if "__pycache__" not in path.parts:
                    files.append((f"strum/{path.relative_to(strum_root).as_posix()}", path))
    manifest = json.dumps(spec.manifest, sort_keys=True, indent=1).encode()
    yield Entry(MANIFEST_NAME, data=manifest)
    for arcname, path in files:
        yield Entry(arcname, source=path, executable=is_executable(path))
    if bytecode:
        yield from _bytecode_entries(files, spec.cache_dir)


def _tree_entries(site: Path, bytecode: bool, cache: Path) -> list[Entry]:
    files = [
        (path.relative_to(site).as_posix(), path)
        for path in sorted(site.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    entries = [
        Entry(arcname, source=path, executable=is_executable(path)) for arcname, path in files
    ]
    if bytecode:
        entries += _bytecode_entries(files, cache)
    return entries


def _bytecode_entries(files: list[tuple[str, Path]], cache: Path) -> list[Entry]:
    """Bytecode with ``UNCHECKED_HASH`` invalidation: valid whatever the zip's mtimes.

    The package never changes after it is built, so checking the source on every import
    would only cost time. Compiled files are cached by (source, path, interpreter): marshal
    output can differ between two compilations of the same source in one process (it
    depends on reference counts), and the cache both pins the bytes - so packages stay
    byte-identical - and makes rebuilds skip the compiler.
    """
    import hashlib
    import os
    import py_compile

    tag = sys.implementation.cache_tag
    store = cache / "pyc" / tag
    store.mkdir(parents=True, exist_ok=True)
    entries = []
    for arcname, path in files:
        if not arcname.endswith(".py"):
            continue
        source = path.read_bytes()
        key = hashlib.sha256(arcname.encode() + b"\0" + source).hexdigest()
        cached = store / f"{key}.pyc"
        if cached.exists():
            touch(cached)
        else:
            partial = store / f"{key}.{os.getpid()}.part"
            try:
                py_compile.compile(
                    str(path),
                    cfile=str(partial),
                    dfile=arcname,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                continue  # a file Python cannot compile (e.g. a template); ship it as is
            os.replace(partial, cached)
        folder, _, module = arcname.rpartition("/")
        target = f"{folder + '/' if folder else ''}__pycache__/{module[:-3]}.{tag}.pyc"
        entries.append(Entry(target, data=cached.read_bytes()))
    return entries
