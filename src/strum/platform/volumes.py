"""Volumes: named directories the platform keeps under ``$STRUM_HOME/volumes``, mounted
read-write into a function's sandbox at a ``FileSystemConfigs`` entry's ``LocalMountPath``.

A function names a volume the way a Lambda function names an Amazon EFS access point:
``arn:aws:elasticfilesystem:<region>:<account>:access-point/fsap-<17 hex digits>``, the
form Lambda's API model requires. The access point's id *is* the volume: its directory is
``volumes/fsap-...``. The platform has no EFS API to create access points, so strum's
deploys derive the id from the volume's name in ``[tool.strum.volumes]`` (``volume_id``:
the first 17 hex digits of the name's SHA-256): the first function naming ``data`` creates
it, every function naming it shares it, and it outlives deploys, versions and restarts.
Any access point ARN (one copied from AWS too) names the local volume of its id.

Every path here is checked as hostile: a name is one plain path component (never ``.``,
``..`` or containing ``/``), a mount path is one component under ``/mnt``, and a volume
directory that has been replaced by a symbolic link is refused rather than followed.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from strum.platform.errors import InvalidParameterValue, model_error

__all__ = [
    "MOUNT_PATTERN",
    "VolumeError",
    "check_mount_path",
    "ensure_volume",
    "file_system_configs",
    "volume_arn",
    "volume_id",
    "volume_name",
]

# One path component: starts with a letter or digit, so never "." or ".."; no "/".
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:elasticfilesystem:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"access-point/(?P<name>[^/]*)$"
)
# botocore's LocalMountPath pattern (Lambda's API model), anchored.
MOUNT_PATTERN = "/mnt/[a-zA-Z0-9-_.]+"
_MOUNT = re.compile(f"^{MOUNT_PATTERN}$")


class VolumeError(ValueError):
    """A volume ARN, name or mount path that cannot be used; the message says why."""


def volume_id(name: str) -> str:
    """The access point id (``fsap-`` and 17 hex digits) of the volume strum calls ``name``."""
    _check_name(name)
    return "fsap-" + hashlib.sha256(name.encode()).hexdigest()[:17]


def volume_arn(region: str, account: str, name: str) -> str:
    """The ARN by which functions on the platform of ``region``/``account`` name ``name``."""
    return f"arn:aws:elasticfilesystem:{region}:{account}:access-point/{volume_id(name)}"


def volume_name(arn: str, *, region: str, account: str) -> str:
    """The volume an ARN names on this platform; ``VolumeError`` when it names none."""
    match = _ARN.match(arn)
    if match is None:
        raise VolumeError(
            f"FileSystemConfigs Arn {arn!r} is not an access point ARN; on strum's platform "
            f"name a volume as arn:aws:elasticfilesystem:{region}:{account}:access-point/<name>"
        )
    if match["account"] != account:
        # Volumes are an account's: no function reaches another's. The region is not
        # checked - the platform answers in the caller's signed region, and a volume is one
        # directory on this machine whichever region a function was created in.
        raise VolumeError(
            f"FileSystemConfigs Arn {arn!r} belongs to account {match['account']}; "
            f"this platform's volumes are in account {account}"
        )
    _check_name(match["name"])
    return match["name"]


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise VolumeError(
            f"{name!r} cannot name a volume: use 1 to 128 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )


def check_mount_path(path: str) -> str:
    """``path`` if it is one directory under /mnt (AWS's pattern, and never ``.``/``..``)."""
    if not _MOUNT.match(path) or path.rsplit("/", 1)[1] in (".", ".."):
        raise VolumeError(
            f"LocalMountPath {path!r} must be one directory directly under /mnt, such as /mnt/data"
        )
    return path


def ensure_volume(root: Path, name: str, owner: int | None = None) -> Path:
    """The directory of volume ``name`` under ``root`` (``$STRUM_HOME/volumes``), made on
    first use, private to ``owner`` (the uid instances run as on the host; None: ours).

    ``root`` is made traversable but not listable: one function cannot discover the names
    of the other volumes. A volume directory that is anything but a real directory (a
    symbolic link planted by anyone) raises ``VolumeError`` instead of being mounted.
    """
    _check_name(name)
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    root.chmod(0o711)
    path = root / name
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    else:
        if owner is not None:
            os.chown(path, owner, owner)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise VolumeError(f"the volume {name!r} at {path} is not a directory; it is not mounted")
    if owner is not None and info.st_uid != owner:
        os.chown(path, owner, owner, follow_symlinks=False)
    return path


def file_system_configs(value: object, region: str, account: str) -> list[dict[str, str]]:
    """A request's ``FileSystemConfigs`` checked as Lambda checks them: at most one
    ``{"Arn", "LocalMountPath"}`` (its model: FileSystemConfigList max 1, the mount path's
    pattern and length), the ARN naming one of this platform's volumes; AWS's
    ``ValidationException`` / ``InvalidParameterValueException``. [] removes the file system."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise InvalidParameterValue(
            'FileSystemConfigs must be a list of {"Arn": ..., "LocalMountPath": "/mnt/..."}'
        )
    if len(value) > 1:
        raise model_error(
            value, "fileSystemConfigs", "Member must have length less than or equal to 1"
        )
    checked = []
    for index, entry in enumerate(value, start=1):
        where = f"fileSystemConfigs.{index}.member"
        arn, path = entry.get("Arn"), entry.get("LocalMountPath")
        if not isinstance(arn, str) or not isinstance(path, str):
            raise InvalidParameterValue(
                "Each FileSystemConfigs entry needs an Arn and a LocalMountPath (strings)"
            )
        if len(arn) > 256:
            raise model_error(
                arn, f"{where}.arn", "Member must have length less than or equal to 256"
            )
        if len(path) > 160:
            raise model_error(
                path, f"{where}.localMountPath", "Member must have length less than or equal to 160"
            )
        if not re.fullmatch(MOUNT_PATTERN, path):
            raise model_error(
                path,
                f"{where}.localMountPath",
                f"Member must satisfy regular expression pattern: {MOUNT_PATTERN}",
            )
        try:
            check_mount_path(path)
            volume_name(arn, region=region, account=account)
        except VolumeError as exc:
            raise InvalidParameterValue(str(exc)) from None
        checked.append({"Arn": arn, "LocalMountPath": path})
    return checked
