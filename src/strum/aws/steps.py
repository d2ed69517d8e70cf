"""The steps of an AWS deploy plan: frozen records, each able to describe itself.

``strum.aws.plan`` decides which steps a deploy needs; ``strum.aws.execute`` is the only code
that carries them out. ``describe()`` is what ``strum deploy --dry-run`` and the progress
output show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strum.deploy.plan import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.plan import CurrentApi, DesiredStage, Mapping, Schedule


@dataclass(frozen=True)
class Grant:
    """One statement of the alias's resource policy: who may invoke it."""

    sid: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None  # S3: a bucket ARN names no account
    url_auth: str | None = None
    via_url: bool = False

    def params(self) -> dict[str, Any]:
        """The AddPermission parameters for this statement."""
        params: dict[str, Any] = {
            "StatementId": self.sid,
            "Action": self.action,
            "Principal": self.principal,
        }
        if self.source_arn:
            params["SourceArn"] = self.source_arn
        if self.source_account:
            params["SourceAccount"] = self.source_account
        if self.url_auth:
            params["FunctionUrlAuthType"] = self.url_auth
        if self.via_url:
            params["InvokedViaFunctionUrl"] = True
        return params

    def matches(self, statement: dict[str, Any]) -> bool:
        """Whether an existing policy statement grants what this one does."""
        action = statement.get("Action")
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("Service") or principal.get("AWS")
        if action != self.action or principal != self.principal:
            return False
        if self.source_arn is None:
            return True
        return self.source_arn in _condition_values(statement)


def _condition_values(statement: dict[str, Any]) -> list[str]:
    values: list[str] = []
    # AWS reports SourceArn as a condition; moto keeps it as a top-level field.
    if statement.get("SourceArn"):
        values.append(str(statement["SourceArn"]))
    for tests in (statement.get("Condition") or {}).values():
        for value in tests.values():
            values += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return values


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
class StagePackage(Step):
    """Put a package over Lambda's direct upload limit in S3 (unless it is there already)."""

    desired: DesiredStage
    key: str
    path: Path

    def describe(self) -> str:
        size = self.path.stat().st_size / 1e6
        return f"upload {self.path.name} ({size:.1f} MB) to s3://{self.desired.bucket}/{self.key}"


@dataclass(frozen=True)
class CreateFunction(Step):
    desired: DesiredStage

    def describe(self) -> str:
        d = self.desired
        return f"create function {d.function} ({d.runtime}, {d.architecture}, {d.memory} MB)"


@dataclass(frozen=True)
class UpdateCode(Step):
    desired: DesiredStage
    architecture_changed: bool = False

    def describe(self) -> str:
        extra = f" for {self.desired.architecture}" if self.architecture_changed else ""
        size = self.desired.code_zip.stat().st_size / 1e3
        return f"upload new code for {self.desired.function}{extra} ({size:.0f} KB)"


@dataclass(frozen=True)
class UpdateConfiguration(Step):
    desired: DesiredStage
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"update configuration of {self.desired.function}: {', '.join(self.changes)}"


@dataclass(frozen=True)
class TagFunction(Step):
    desired: DesiredStage
    keys: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"tag {self.desired.function} with {', '.join(self.keys)}"


@dataclass(frozen=True)
class PublishVersion(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"publish a new version of {self.desired.function}"


@dataclass(frozen=True)
class PointAlias(Step):
    desired: DesiredStage
    exists: bool

    def describe(self) -> str:
        verb = "move" if self.exists else "create"
        return f"{verb} alias {self.desired.alias} to the new version"


@dataclass(frozen=True)
class SetConcurrency(Step):
    desired: DesiredStage

    def describe(self) -> str:
        reserved = self.desired.reserved_concurrency
        if reserved is None:
            return f"remove reserved concurrency of {self.desired.function}"
        return f"reserve {reserved} concurrent executions for {self.desired.function}"


@dataclass(frozen=True)
class EnsureUrl(Step):
    desired: DesiredStage
    exists: bool

    def describe(self) -> str:
        verb = "update" if self.exists else "create"
        return f"{verb} the public function URL of {self.desired.function}:{self.desired.alias}"


@dataclass(frozen=True)
class RemoveUrl(Step):
    desired: DesiredStage

    def describe(self) -> str:
        return f"remove the function URL of {self.desired.function}:{self.desired.alias}"


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
class SetEventInvokeConfig(Step):
    desired: DesiredStage

    def describe(self) -> str:
        target = f"{self.desired.function}:{self.desired.alias}"
        if self.desired.event_invoke is None:
            return f"reset async retries and destinations of {target} to the defaults"
        retries, max_age, _, _ = self.desired.event_invoke
        return f"set async invocation of {target}: {retries} retries, max age {max_age} s"


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
