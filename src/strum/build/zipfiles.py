"""Deterministic zip archives: identical inputs give byte-identical files.

Entries are sorted, every timestamp is the zip epoch (1980-01-01), permissions are
normalised to 0644 (0755 for executables), and no extra fields are written - so a package's
SHA-256 identifies its content and nothing else, and unchanged builds upload nothing.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Entry:
    """One file to archive: its path inside the zip and where its bytes come from."""

    arcname: str  # posix path inside the archive
    source: Path | None = None
    data: bytes | None = None
    executable: bool = False


def write_zip(entries: Iterable[Entry], destination: Path, *, compress: bool = True) -> str:
    """Write ``entries`` deterministically to ``destination``; return its SHA-256 (hex).

    ``compress=False`` stores entries as they are: for packages that only travel over
    loopback to the local platform, deflating megabytes of dependencies costs more than
    it saves.

    The archive is written to a temporary name and renamed, so a crash never leaves a
    half-written package under the final name.
    """
    ordered = sorted(entries, key=lambda entry: entry.arcname)
    seen: set[str] = set()
    # A name of its own per writer: two builds of one package at once must not write one
    # temporary file (the loser's rename found it gone).
    temporary = destination.with_name(
        f".{destination.name}.{os.getpid()}.{os.urandom(4).hex()}.part"
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(temporary, "w", method, compresslevel=6 if compress else None) as archive:
        for entry in ordered:
            if entry.arcname in seen:
                raise ValueError(f"two files would be packaged as {entry.arcname}")
            seen.add(entry.arcname)
            info = zipfile.ZipInfo(entry.arcname, date_time=_EPOCH)
            info.compress_type = method
            mode = 0o755 if entry.executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3  # unix, so the permissions above are honoured
            data = entry.data if entry.data is not None else _read(entry.source)
            archive.writestr(info, data)
    try:
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return file_sha256(destination)


def _read(source: Path | None) -> bytes:
    if source is None:
        raise ValueError("an entry needs a source path or data")
    return source.read_bytes()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_executable(path: Path) -> bool:
    """Whether the file has any execute bit set."""
    return bool(path.stat().st_mode & 0o111)


def zip_entries(archive_path: Path) -> list[Entry]:
    """The entries of an existing zip (to merge a layer into a function package)."""
    entries = []
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            executable = bool((info.external_attr >> 16) & 0o111)
            entries.append(Entry(info.filename, data=archive.read(info), executable=executable))
    return entries
