"""The steps only an AWS deploy has: roles, logs, layers, S3 uploads, permissions, the HTTP
API, schedule rules and event source mappings. Frozen records, each able to describe itself.

The steps a function has on both targets (create, update, publish, alias, URL...) are
``strum.deploy.steps``'; consumers and the custom domain have theirs in ``consumers`` and
``domain``. ``strum.aws.execute`` is the only code that carries steps out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strum.deploy.steps import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import CurrentApi, DesiredStage, Grant, Mapping, Schedule


@dataclass(frozen=True)
class CreateRole(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"create execution role {self.desired.role_name} (assumed by Lambda only)"


@dataclass(frozen=True)
class UpdateTrust(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"reset the trust policy of role {self.desired.role_name} to Lambda only"


@dataclass(frozen=True)
class PutRolePolicy(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"set the least-privilege policy of role {self.desired.role_name}"


@dataclass(frozen=True)
class DeleteOwnRole(Step):
    """The config now names its own role_arn: the role strum created is not needed."""

    desired: DesiredStage
    name: str

    def describe(self) -> str:
        return f"delete role {self.name} (the stage now uses role_arn)"


@dataclass(frozen=True)
class CreateLogGroup(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"create log group {self.desired.log_group}"


@dataclass(frozen=True)
class SetRetention(Step):
    desired: DesiredStage

    def describe(self) -> str:
        days = self.desired.log_retention_days
        keep = f"{days} days" if days else "forever"
        return f"keep the logs of {self.desired.function} {keep}"


@dataclass(frozen=True)
class PublishLayer(Step):
    desired: DesiredStage

    def describe(self) -> str:
        size = self.desired.layer_zip.stat().st_size if self.desired.layer_zip else 0
        return f"publish dependency layer {self.desired.layer_name} ({size / 1e6:.1f} MB)"


@dataclass(frozen=True)
class UploadToS3(Step):
    """Put a package over Lambda's direct upload limit in S3 (unless it is there already)."""

    desired: DesiredStage
    key: str
    path: Path

    def describe(self) -> str:
        size = self.path.stat().st_size / 1e6
        return f"upload {self.path.name} ({size:.1f} MB) to s3://{self.desired.bucket}/{self.key}"


@dataclass(frozen=True)
class TagFunction(Step):
    desired: DesiredStage
    keys: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"tag {self.desired.function} with {', '.join(self.keys)}"


@dataclass(frozen=True)
class GrantPermission(Step):
    desired: DesiredStage
    grant: Grant

    def describe(self) -> str:
        who = self.grant.principal if self.grant.principal != "*" else "anyone"
        return f"allow {who} to call {self.grant.action} on {self.desired.alias} ({self.grant.sid})"


@dataclass(frozen=True)
class RevokePermission(Step):
    desired: DesiredStage
    sid: str

    def describe(self) -> str:
        return f"remove permission {self.sid} from {self.desired.function}:{self.desired.alias}"


@dataclass(frozen=True)
class EnsureHttpApi(Step):
    """Create the HTTP API, or the parts of it that are missing or point elsewhere."""

    desired: DesiredStage
    current: CurrentApi | None
    has_permission: bool

    def describe(self) -> str:
        verb = "create" if self.current is None else "repair"
        return f"{verb} HTTP API {self.desired.function} ($default route -> {self.desired.alias})"


@dataclass(frozen=True)
class RemoveHttpApi(Step):
    desired: DesiredStage
    api_id: str

    def describe(self) -> str:
        return f"delete HTTP API {self.api_id} (http_api is off)"


@dataclass(frozen=True)
class PutSchedule(Step):
    desired: DesiredStage
    schedule: Schedule

    def describe(self) -> str:
        state = "" if self.schedule.enabled else " (disabled)"
        return f"schedule rule {self.schedule.rule}: {self.schedule.expression}{state}"


@dataclass(frozen=True)
class RemoveSchedule(Step):
    desired: DesiredStage
    rule: str

    def describe(self) -> str:
        return f"delete schedule rule {self.rule}"


@dataclass(frozen=True)
class CreateMapping(Step):
    desired: DesiredStage
    mapping: Mapping

    def describe(self) -> str:
        return f"deliver {self.mapping.source_arn} to {self.desired.function}:{self.desired.alias}"


@dataclass(frozen=True)
class UpdateMapping(Step):
    desired: DesiredStage
    uuid: str
    mapping: Mapping

    def describe(self) -> str:
        return f"update the delivery of {self.mapping.source_arn}"


@dataclass(frozen=True)
class DeleteMapping(Step):
    desired: DesiredStage
    uuid: str
    source_arn: str

    def describe(self) -> str:
        return f"stop delivering {self.source_arn} to {self.desired.function}"
