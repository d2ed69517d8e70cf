"""Package sizes: the report ``strum package`` prints, and Lambda's limits checked early.

AWS rejects a direct upload over 50 MB zipped and a function whose code plus layers
unzip to more than 250 MB - after the upload, with little detail. strum checks before
uploading and names the biggest contributors.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from strum.build.sources import DependencyError
from strum.build.target import Target

MAX_UNZIPPED = 250 * 1024 * 1024


@dataclass(frozen=True)
class SizeReport:
    """Sizes of a built package and its largest top-level parts."""

    code_zipped: int
    deps_zipped: int
    unzipped: int
    files: int
    contributors: tuple[tuple[str, int], ...]  # (top-level name, unzipped bytes), largest first

    @property
    def zipped(self) -> int:
        return self.code_zipped + self.deps_zipped

    def as_dict(self) -> dict[str, object]:
        return {
            "code_zipped": self.code_zipped,
            "deps_zipped": self.deps_zipped,
            "zipped": self.zipped,
            "unzipped": self.unzipped,
            "files": self.files,
            "top": [{"name": name, "bytes": size} for name, size in self.contributors],
        }


def measure(code_zip: Path, deps_zip: Path | None) -> SizeReport:
    """Sizes of the code and dependency zips, with the ten largest top-level parts."""
    totals: dict[str, int] = {}
    files = 0
    unzipped = 0
    for archive_path in (code_zip, deps_zip):
        if archive_path is None:
            continue
        with zipfile.ZipFile(archive_path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                files += 1
                unzipped += info.file_size
                top = info.filename.split("/", 1)[0]
                if top.endswith(".dist-info"):
                    top = top.split("-", 1)[0] + " (metadata)"
                totals[top] = totals.get(top, 0) + info.file_size
    biggest = tuple(sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:10])
    return SizeReport(
        code_zipped=code_zip.stat().st_size,
        deps_zipped=deps_zip.stat().st_size if deps_zip else 0,
        unzipped=unzipped,
        files=files,
        contributors=biggest,
    )


def check_limits(report: SizeReport, target: Target) -> None:
    """Raise ``DependencyError`` naming the biggest parts when AWS would refuse the package."""
    if target.provider != "aws":
        return
    top = ", ".join(f"{name} {human(size)}" for name, size in report.contributors[:5])
    if report.unzipped > MAX_UNZIPPED:
        raise DependencyError(
            f"the package unzips to {human(report.unzipped)}, over Lambda's 250 MB limit for "
            f"code plus layers. Largest parts: {top}. Drop unused dependencies, exclude data "
            "files (`exclude` in the config), or move large assets to S3."
        )
    # Zips over Lambda's 50 MB direct-upload limit are not refused here: the AWS deploy
    # uploads them through S3 (strum.aws.execute.s3_uploads); only the unzipped size is a hard limit.


def human(size: int) -> str:
    """Bytes as a short human-readable size."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
