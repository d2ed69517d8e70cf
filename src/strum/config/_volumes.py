"""Checks of ``[volumes]`` (persistent file systems mounted at /mnt/<dir>) and ``vpc``.

``data = "/mnt/data"`` names a volume ``data``: on a local stage the platform keeps it in
``$STRUM_HOME/volumes/`` (named by the access point id strum derives from ``data``). On AWS a volume is an Amazon EFS access point the user made
and names: ``data = { path = "/mnt/data", efs = "arn:aws:elasticfilesystem:...:access-point/
fsap-..." }``; Lambda reaches EFS only from inside a VPC, so an AWS stage with a volume needs
``vpc = { subnets = [...], security_groups = [...] }`` too.
"""

from __future__ import annotations

from strum.config._checks import matches, string, string_list
from strum.config._model import Volume, Vpc
from strum.config._problems import INVALID, Invalid, Where, describe, unknown_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Locate = Callable[..., Where]

# A volume's name is one path component of the platform's volumes directory.
VOLUME_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
# Lambda's LocalMountPath pattern (its API model); "." and ".." are refused on top.
MOUNT_PATH = r"/mnt/[a-zA-Z0-9_.-]+"
# Lambda's FileSystemArn pattern for EFS access points.
EFS_ARN = (
    r"arn:aws[a-zA-Z-]*:elasticfilesystem:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:"
    r"\d{12}:access-point/fsap-[a-f0-9]{17}"
)
SUBNET = r"subnet-[0-9a-f]{8,17}"
SECURITY_GROUP = r"sg-[0-9a-f]{8,17}"
_EXAMPLE = 'data = "/mnt/data"'
_AWS_EXAMPLE = (
    'data = { path = "/mnt/data", efs = '
    '"arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0" }'
)


def _mount_path(value: Any, where: Where) -> str:
    text = string(value, where)
    if not matches(MOUNT_PATH, text) or text.rsplit("/", 1)[1] in (".", ".."):
        raise Invalid(
            f'"{text}" is not a mount path Lambda accepts: one directory directly under /mnt, '
            'e.g. "/mnt/data"'
        )
    return text


def _efs(value: Any, where: Where) -> str:
    text = string(value, where)
    if not matches(EFS_ARN, text):
        raise Invalid(
            f'"{text}" is not an EFS access point ARN; it looks like "arn:aws:'
            'elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0" '
            "(the access point's ARN, not the file system's)"
        )
    return text


def volumes(value: Any, where: Where) -> dict[str, Any]:
    """``[volumes]``: name -> ``{"path": ..., "efs": ...}`` (a stage merges by name)."""
    if not isinstance(value, dict):
        raise Invalid(f"must be a table of named volumes, e.g. volumes = {{ {_EXAMPLE} }}")
    checked: dict[str, Any] = {}
    for name, entry in value.items():
        spot = where.at(name)
        if not matches(VOLUME_NAME, name):
            spot.report(
                f'"{name}" cannot name a volume: letters, digits, ".", "-" and "_", starting '
                "with a letter or digit"
            )
            continue
        if isinstance(entry, str):
            try:
                checked[name] = {"path": _mount_path(entry, spot)}
            except Invalid as exc:
                spot.report(str(exc))
                checked[name] = {"path": INVALID}
            continue
        if not isinstance(entry, dict):
            spot.report(f"must be a mount path or a table, not {describe(entry)}; e.g. {_EXAMPLE}")
            continue
        fields: dict[str, Any] = {}
        for key, item in entry.items():
            check = {"path": _mount_path, "efs": _efs}.get(key)
            if check is None:
                spot.at(key).report(unknown_key(key, ["path", "efs"]))
                continue
            try:
                fields[key] = check(item, spot.at(key))
            except Invalid as exc:
                spot.at(key).report(str(exc))
                fields[key] = INVALID
        if "path" not in fields:
            spot.report(f"path is missing: where the function sees the volume, e.g. {_EXAMPLE}")
            fields["path"] = INVALID
        checked[name] = fields
    return checked


def vpc(value: Any, where: Where) -> Vpc:
    """``vpc = { subnets = [...], security_groups = [...] }`` of an AWS stage."""
    example = 'vpc = { subnets = ["subnet-0123456789abcdef0"], security_groups = ["sg-0123..."] }'
    if not isinstance(value, dict):
        raise Invalid(f"must be a table, e.g. {example}, not {describe(value)}")
    found: dict[str, tuple[str, ...]] = {}
    for key, pattern, sample in (
        ("subnets", SUBNET, '"subnet-0123456789abcdef0"'),
        ("security_groups", SECURITY_GROUP, '"sg-0123456789abcdef0"'),
    ):
        spot = where.at(key)
        if key not in value:
            raise Invalid(f"{key} is missing; e.g. {example}")
        items = string_list(sample, key)(value[key], spot)
        for index, item in enumerate(items):
            if not matches(pattern, item):
                spot.at(str(index)).report(f'"{item}" is not an id like {sample}')
        if not items:
            spot.report(f"needs at least one id, e.g. {key} = [{sample}]")
        found[key] = items
    for key in value:
        if key not in found:
            where.at(key).report(unknown_key(key, list(found)))
    return Vpc(subnets=found["subnets"], security_groups=found["security_groups"])


def build_volumes(
    table: dict[str, Any], target: str, has_vpc: bool, at: Locate
) -> tuple[Volume, ...]:
    """The merged ``volumes`` table for a stage of ``target``, after reporting what cannot
    work there: more than one volume, an AWS volume without its access point or VPC."""
    if len(table) > 1:
        at("volumes").report(
            f"{len(table)} volumes are configured; Lambda mounts at most one file system per "
            "function: keep one (several directories can live in it)"
        )
        return ()
    built = []
    for name, fields in table.items():
        if INVALID in fields.values():
            continue
        efs = fields.get("efs")
        if target == "aws" and efs is None:
            at("volumes", name).report(
                "on the AWS target a volume is an Amazon EFS access point: create one and "
                f"name it, e.g. {_AWS_EXAMPLE}"
            )
            continue
        if target == "aws" and not has_vpc:
            at("volumes", name).report(
                "Lambda mounts EFS only inside a VPC, and this stage has none: add vpc = { "
                'subnets = ["subnet-..."], security_groups = ["sg-..."] } with subnets that '
                "reach the file system's mount targets (and a security group allowing NFS, "
                "port 2049)"
            )
            continue
        built.append(Volume(name=name, path=fields["path"], efs=efs))
    return tuple(built)
