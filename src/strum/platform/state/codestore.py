"""Deployment packages, stored once by content and unpacked once per content.

A zip lands in ``home.code/<sha256 hex>.zip`` (written to a temporary file, synced, then
renamed: a crash never leaves half a package under its final name) and is unpacked into
``home.unpacked/<sha256 hex>/`` the same way: extracted into a temporary directory, made
read-only (files 0o444, executables and directories 0o555), then renamed into place.
Entries that would land outside the package (``../``, absolute paths, symlinks pointing
out) are refused before anything is written.

The API reports a package's ``CodeSha256`` as AWS does: the base64 of the SHA-256 digest.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from strum.platform.errors import InvalidParameterValue
from strum.platform.home import Home

logger = logging.getLogger(__name__)

# AWS's quotas for a .zip deployment package: 50 MB zipped (direct upload), 250 MB unzipped.
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 262_144_000


def code_sha256(sha_hex: str) -> str:
    """AWS's ``CodeSha256``: the base64 of the SHA-256 digest (not the hex)."""
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


@dataclass(frozen=True)
class StoredCode:
    """A package in the store: its SHA-256 (hex) and size in bytes."""

    sha_hex: str
    size: int

    @property
    def code_sha256(self) -> str:
        return code_sha256(self.sha_hex)


class CodeStore:
    """The content-addressed package store of one ``$STRUM_HOME``."""

    def __init__(self, home: Home) -> None:
        self.home = home
        home.ensure()
        self._sweep_leftovers()

    def zip_path(self, sha_hex: str) -> Path:
        return self.home.code / f"{sha_hex}.zip"

    def put(self, data: bytes) -> StoredCode:
        """Check a zip, store it (once) and unpack it (once); answer its digest and size.

        Raises ``InvalidParameterValue`` with AWS's wording for anything Lambda would
        refuse: not a zip, over 250 MB unzipped, or entries escaping the package. (The
        50 MB of a direct upload is the API's to check: staged uploads may be larger.)
        """
        _check_zip(data)
        sha_hex = hashlib.sha256(data).hexdigest()
        path = self.zip_path(sha_hex)
        if not path.exists():
            _write_atomically(path, data)
        self.unpack(sha_hex)
        return StoredCode(sha_hex, len(data))

    def unpack(self, sha_hex: str) -> Path:
        """The read-only directory holding package ``sha_hex``, extracting it if needed."""
        final = self.home.unpacked / sha_hex
        if final.is_dir():
            return final
        source = self.zip_path(sha_hex)
        if not source.exists():
            raise FileNotFoundError(f"package {sha_hex} is not in the code store {self.home.code}")
        data = source.read_bytes()
        _check_zip(data)
        temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{sha_hex[:16]}-", dir=self.home.unpacked))
        try:
            _extract(data, temporary, self.home.root / "blobs")
            _make_read_only(temporary)
            temporary.rename(final)
        except OSError:
            _remove_tree(temporary)
            if final.is_dir():  # another unpack of the same package won the race
                return final
            raise
        logger.debug("unpacked package %s", sha_hex)
        return final

    def total_size(self) -> int:
        """Bytes of every package stored (zips, each counted once: AWS's code storage)."""
        total = 0
        for path in self.home.code.glob("*.zip"):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def unzipped_size(self, sha_hex: str) -> int:
        """The bytes package ``sha_hex`` takes unzipped (what Lambda's 250 MB quota counts)."""
        with zipfile.ZipFile(self.zip_path(sha_hex)) as archive:
            return sum(member.file_size for member in archive.infolist())

    def layered(self, shas: list[str]) -> Path:
        """One read-only directory holding packages ``shas`` extracted in order, as Lambda
        extracts a function's layers into /opt: a later package's file wins a clash.

        Made once per ordered set (``opt-<prefixes>``, beside the unpacked packages, so the
        sandbox reaches it the same way) from hard links to the unpacked files: merging
        costs a link per file, not a copy.
        """
        if len(shas) == 1:
            return self.unpack(shas[0])
        final = self.home.unpacked / ("opt-" + "-".join(sha[:24] for sha in shas))
        if final.is_dir():
            return final
        sources = [self.unpack(sha) for sha in shas]
        temporary = Path(tempfile.mkdtemp(prefix=".tmp-opt-", dir=self.home.unpacked))
        try:
            for source in sources:
                _overlay(source, temporary)
            _make_read_only(temporary)
            temporary.rename(final)
        except OSError:
            _remove_tree(temporary)
            if final.is_dir():
                return final
            raise
        return final

    def collect(self, keep: set[str]) -> int:
        """Delete every package (zip, unpacked tree, cached bytecode) not in ``keep``.

        Called after deletions, so removing a function leaves nothing of it on disk.
        Answers how many packages went.
        """
        removed = 0
        for path in self.home.code.glob("*.zip"):
            sha_hex = path.stem
            if sha_hex in keep:
                continue
            unpacked = self.home.unpacked / sha_hex
            # PYTHONPYCACHEPREFIX mirrors the absolute path of the sources.
            _remove_tree(self.home.bytecode / str(unpacked.resolve()).lstrip("/"))
            _remove_tree(unpacked)
            path.unlink(missing_ok=True)
            removed += 1
        for merged in self.home.unpacked.glob("opt-*"):
            prefixes = merged.name[4:].split("-")
            if not all(any(sha.startswith(p) for sha in keep) for p in prefixes):
                _remove_tree(merged)
        if removed:
            # A blob no unpacked package links to any more has one link left: its own.
            for blob in (self.home.root / "blobs").glob("*/*"):
                with contextlib.suppress(OSError):
                    if blob.stat().st_nlink == 1:
                        blob.unlink()
        return removed

    def _sweep_leftovers(self) -> None:
        """Remove temporaries a crash left behind (they never carry a final name)."""
        for leftover in self.home.unpacked.glob(".tmp-*"):
            _remove_tree(leftover)
        for leftover in self.home.code.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
        for leftover in (self.home.root / "blobs").glob("*/.tmp-*"):
            leftover.unlink(missing_ok=True)


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from exc
    with archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValue(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )
        for member in members:
            _check_member(archive, member)


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise InvalidParameterValue(
            f"Could not unzip uploaded file: the entry {name!r} points outside the package"
        )
    if _is_symlink(member):
        target = archive.read(member).decode("utf-8", "replace")
        resolved = PurePosixPath(*parts[:-1], target)
        if target.startswith("/") or _escapes(resolved):
            raise InvalidParameterValue(
                f"Could not unzip uploaded file: the symlink {name!r} -> {target!r} points "
                "outside the package"
            )


def _escapes(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def _is_symlink(member: zipfile.ZipInfo) -> bool:
    return member.create_system == 3 and stat.S_ISLNK(member.external_attr >> 16)


def _extract(data: bytes, root: Path, blobs: Path) -> None:
    """Unpack ``data`` into ``root``, each file a hard link to a shared read-only blob.

    Packages of one project share most files (the same dependencies, version after version,
    function after function). Creating a file costs about a millisecond on the disks this
    runs on, a hard link a few microseconds: linking makes the second package with the
    same dependencies unpack in a fraction of the time and take no extra space. Blobs are
    never written to after creation (0444/0555), so sharing them is safe.
    """
    made: set[Path] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            target = root.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            content = archive.read(member)
            if _is_symlink(member):
                os.symlink(content.decode(), target)
                continue
            mode = (member.external_attr >> 16) & 0o777 if member.create_system == 3 else 0
            executable = bool(mode & 0o111) or (mode == 0 and target.name == "bootstrap")
            digest = hashlib.sha256(content).hexdigest() + ("x" if executable else "")
            blob = blobs / digest[:2] / digest
            if not blob.exists():
                blob.parent.mkdir(parents=True, exist_ok=True)
                partial = blob.with_name(f".tmp-{digest}-{os.getpid()}")
                partial.write_bytes(content)
                partial.chmod(0o555 if executable else 0o444)
                os.replace(partial, blob)
            os.link(blob, target)


def _overlay(source: Path, target: Path) -> None:
    """Link ``source``'s tree into ``target``, replacing what is there on a clash."""
    for directory, names, files in os.walk(source):
        here = target / Path(directory).relative_to(source)
        for name in names + files:
            origin, destination = Path(directory) / name, here / name
            is_dir = origin.is_dir() and not origin.is_symlink()
            if destination.is_symlink() or destination.exists():
                if is_dir and destination.is_dir() and not destination.is_symlink():
                    continue
                if destination.is_dir() and not destination.is_symlink():
                    _remove_tree(destination)
                else:
                    destination.unlink()
            if origin.is_symlink():
                os.symlink(os.readlink(origin), destination)
            elif is_dir:
                destination.mkdir()
            else:
                os.link(origin, destination)
        # A symlinked directory is linked above, never walked into.
        names[:] = [name for name in names if not (Path(directory) / name).is_symlink()]


def _make_read_only(root: Path) -> None:
    for directory, _names, _files in os.walk(root, topdown=False):
        os.chmod(directory, 0o555)


def _remove_tree(root: Path) -> None:
    if not root.exists():
        return
    for directory, _names, _files in os.walk(root):
        os.chmod(directory, 0o700)
    shutil.rmtree(root, ignore_errors=True)


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
