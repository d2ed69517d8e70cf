"""The AWS SDK for Python as AWS's Python runtimes provide it: ``boto3``, ``botocore`` and
what they import, plus ``snapshot_restore_py`` (SnapStart's runtime hooks) and the
durable-execution SDK (``aws_durable_execution_sdk_python``), taken from the
platform's own installation and staged once in one directory that instances see read-only.

One directory, not one bind mount per package: each bind mount costs every sandboxed cold
start about half a millisecond, and staging is hard links (a copy across file systems),
about 70 ms once per SDK version - the directory is kept, keyed by the packages it holds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

# What AWS's python3.x runtimes put on sys.path besides the standard library.
SDK_PACKAGES = (
    "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3",
    "snapshot_restore_py",
    # AWS's Python runtimes carry the durable-execution SDK too (its version says
    # "+bundled" there); staged when the platform has it (Python 3.11+).
    "aws_durable_execution_sdk_python",
)  # fmt: skip
_STAMP = ".strum-sdk"


def _sources() -> list[Path]:
    found = []
    for name in SDK_PACKAGES:
        spec = importlib.util.find_spec(name)  # a top-level name: found, not imported
        if spec is None:
            continue
        if spec.submodule_search_locations:
            found.append(Path(next(iter(spec.submodule_search_locations))))
        elif spec.origin:
            found.append(Path(spec.origin))
    return found


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links refused
        shutil.copy2(source, target)


def prepare_sdk(destination: Path) -> Path:
    """Stage the SDK packages in ``destination`` unless it already holds these very ones."""
    sources = _sources()
    stamp = hashlib.sha256(
        "\n".join(f"{path}:{path.stat().st_mtime_ns}" for path in sources).encode()
    ).hexdigest()
    try:
        if (destination / _STAMP).read_text() == stamp:
            return destination
    except OSError:
        pass
    staging = destination.with_name(f"{destination.name}.new-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o755, parents=True)
    for source in sources:
        if source.is_dir():
            shutil.copytree(
                source,
                staging / source.name,
                copy_function=_link_or_copy,
                ignore=shutil.ignore_patterns("*.pyc.*"),
            )
        else:
            _link_or_copy(str(source), str(staging / source.name))
    (staging / _STAMP).write_text(stamp)
    old = destination.with_name(f"{destination.name}.old-{os.getpid()}")
    if destination.exists():
        destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)
    return destination
