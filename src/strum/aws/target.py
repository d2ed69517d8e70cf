"""The AWS target: config + build + AWS Lambda, end to end.

``AwsTarget`` implements ``strum.deploy.Target`` for a stage whose target is ``aws``. The
function of a stage is ``<project>-<stage>``, its alias is the stage name and everything a
deploy creates carries the ``strum:project`` and ``strum:stage`` tags, which is how status
and undeploy find it. The boto3 client is made on first use, for the stage's region and
profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.aws.client import AwsClient, CallLog
from strum.aws.errors import AwsCredentialsError, AwsError
from strum.aws.execute import Executor, Patience, owned_function, undeploy_stage
from strum.aws.logs import LogFollower
from strum.aws.model import owned
from strum.aws.plan import plan_deploy
from strum.aws.read import current_stage, find_api
from strum.deploy.errors import DeployError, NotDeployed, UnsupportedOnTarget
from strum.deploy.stage import configuration_summary, consumers_summary
from strum.deploy.target import (
    DeadLetters,
    DeployResult,
    Invocation,
    LogTail,
    Notify,
    Packaged,
    Reporter,
    build_stage,
    manage_command,
    move_alias_back,
    rollback_version,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.platform.home import Home


# What a dry run without credentials puts where the caller's account id would go.
_PLACEHOLDER_ACCOUNT = "000000000000"


@dataclass
class AwsDeployResult(DeployResult):
    """A deploy's result with the AWS calls it made (a no-op deploy makes no write)."""

    calls: CallLog = field(default_factory=CallLog)


def connect(config: ProjectConfig) -> AwsClient:
    """A client for the stage's region and profile; a stage without a region is an error."""
    client = AwsClient(config.region, config.profile)
    if client.resolved_region() is None:
        raise DeployError(
            f"stage {config.stage!r} targets AWS but no region is set: add region = "
            f'"eu-west-1" (for example) under [tool.strum.stages.{config.stage}], or set '
            "AWS_DEFAULT_REGION / a region in the AWS profile"
        )
    return client


class AwsTarget:
    """A stage on AWS Lambda. ``client``, ``patience`` and ``upload_limit`` are for tests and
    benchmarks: a client of their own, shorter waits, a lower S3 threshold."""

    def __init__(
        self,
        config: ProjectConfig,
        home: Home | None = None,
        *,
        client: AwsClient | None = None,
        patience: Patience | None = None,
        upload_limit: int | None = None,
    ) -> None:
        self.config = config
        self._home = home
        self._client = client
        self.patience = patience
        self.upload_limit = upload_limit

    @property
    def home(self) -> Home:
        """Where the build cache lives (``$STRUM_HOME`` unless given)."""
        if self._home is None:
            from strum.platform.home import Home, default_home

            self._home = Home(default_home())
        return self._home

    @property
    def client(self) -> AwsClient:
        """The stage's AWS client, made (and the region checked) on first use."""
        if self._client is None:
            self._client = connect(self.config)
        return self._client

    def package(self, output: Path | None, report: Reporter) -> Packaged:
        """Build for Lambda; the report is what a deploy uploads (app zip and layer)."""
        from strum.aws.packages import deploy_uploads
        from strum.build import Target

        config = self.config
        host = Target.local()
        target = Target(config.python or host.python, config.architecture, "aws")
        # The zips -o gets are the deploy's, written below, not the build's.
        artifact = build_stage(config, target, self.home, report)
        cache = self.home.root / "cache"
        uploads = deploy_uploads(artifact, cache, output, project=config.project)
        return Packaged(target, artifact, uploads)

    def deploy(self, report: Reporter, notify: Notify, *, dry_run: bool = False) -> AwsDeployResult:
        """Package -> plan -> execute for an AWS stage; idempotent, and resumable on failure.

        Packages over ``upload_limit`` bytes zipped (Lambda's 50 MB by default) go through S3.
        """
        from strum.build import cache_in_use

        # From the build until the zips are uploaded: no cache prune removes them.
        with cache_in_use(self.home.root / "cache"):
            return self._deploy(report, notify, dry_run=dry_run)

    def _deploy(self, report: Reporter, notify: Notify, *, dry_run: bool) -> AwsDeployResult:
        from strum.aws.desired import desired_stage
        from strum.aws.packages import DIRECT_UPLOAD_LIMIT

        client = self.client
        notes: list[str] = []
        limit = DIRECT_UPLOAD_LIMIT if self.upload_limit is None else self.upload_limit
        try:
            desired = desired_stage(
                self.config, self.home, client, report, notes, upload_limit=limit
            )
        except AwsCredentialsError as exc:
            if not dry_run:
                raise
            return self._plan_without_credentials(client, report, notes, exc)
        with report("reading what the stage has on AWS"):
            current = current_stage(client, desired)
        steps = plan_deploy(desired, current)
        result = AwsDeployResult(desired.function, desired.alias, steps, None, None, notes, dry_run)
        result.calls = client.log
        if dry_run:
            return result
        executor = Executor(client, notify, current.layer_arn, self.patience)
        try:
            produced = executor.run(steps, report)
        except AwsError as exc:
            serving = (current.alias or {}).get("FunctionVersion")
            if executor.produced.get("alias_moved"):
                where = f"version {executor.produced['version']} already serves the stage"
            elif serving:
                where = f"the stage still serves version {serving}"
            else:
                where = "nothing serves the stage yet"
            raise DeployError(
                f"the deploy of {desired.function} stopped: {exc}. {where[0].upper()}{where[1:]}; "
                f"fix the cause and run `strum deploy {desired.stage}` again: it picks up where "
                "this one stopped"
            ) from exc
        if desired.domain:
            result.url = f"https://{desired.domain}"
        elif desired.http_api:
            endpoint = current.api.endpoint if current.api else None
            result.url = produced.get("api_endpoint") or endpoint
        elif desired.url:
            result.url = produced.get("url") or (current.url or {}).get("FunctionUrl")
        result.version = produced.get("version") or (current.alias or {}).get("FunctionVersion")
        return result

    def _plan_without_credentials(
        self, client: AwsClient, report: Reporter, notes: list[str], exc: AwsCredentialsError
    ) -> AwsDeployResult:
        """``--dry-run`` with no credentials: the plan against an empty account - what a
        first deploy would do - with placeholders for what only AWS could say."""
        from strum.aws.desired import build_desired_stage
        from strum.aws.model import CurrentStage

        desired = build_desired_stage(
            self.config,
            self.home,
            report,
            notes,
            account=_PLACEHOLDER_ACCOUNT,
            region=str(client.resolved_region()),
            partition="aws",
        )
        steps = plan_deploy(desired, CurrentStage())
        result = AwsDeployResult(desired.function, desired.alias, steps, None, None, notes, True)
        result.plan_basis = (
            f"AWS cannot be read ({exc}), so this is the plan against an EMPTY current "
            "state - what a first deploy to an account without the stage would do; account "
            f"{_PLACEHOLDER_ACCOUNT} stands for yours"
        )
        result.calls = client.log
        return result

    def status(self) -> dict[str, Any]:
        """The stage as deployed on AWS; ``deployed`` False if there is no function."""
        client, config = self.client, self.config
        name, stage = config.function_name, config.stage
        base: dict[str, Any] = {
            "function": name,
            "stage": stage,
            "target": "aws",
            "platform": f"AWS {client.resolved_region()}",
        }
        found = owned_function(client, config)
        if found is None:
            return {**base, "deployed": False}
        configuration = found["Configuration"]
        alias = client.get_alias(name, stage)
        url = client.get_url_config(name, stage) if alias else None
        api = find_api(client, config.project, stage)
        rule_prefix = f"{name}-"
        rules = {
            str(rule["Name"])[len(rule_prefix) :]: rule
            for rule in client.list_rules(rule_prefix)
            if owned(client.rule_tags(rule["Arn"]), config.project, stage)
        }
        versions = client.list_versions(name)
        # Mappings are made on the alias, and listed by its ARN.
        alias_arn = str(alias.get("AliasArn") or "") if alias else None
        mappings = {
            str(mapping.get("EventSourceArn")): mapping
            for mapping in (client.list_mappings(alias_arn) if alias_arn else ())
        }
        consumers = consumers_summary(config)
        for consumer in consumers.values():
            mapping = mappings.get(str(consumer["arn"]))
            if mapping is not None:
                consumer["state"] = mapping.get("State")
            elif consumer["source"] in ("sqs", "kinesis", "dynamodb"):
                consumer["state"] = "no event source mapping (deploy the stage)"
            else:
                consumer["state"] = "subscribed by the source (SNS, S3, EventBridge)"
        return {
            **base,
            "deployed": True,
            "version": alias["FunctionVersion"] if alias else None,
            "versions": [v["Version"] for v in versions if v["Version"] != "$LATEST"],
            "url": api.endpoint if api else (url["FunctionUrl"] if url else None),
            "domain": config.domain if api else None,
            **configuration_summary(configuration),
            "role": configuration.get("Role"),
            "layers": [layer["Arn"] for layer in configuration.get("Layers") or ()],
            "schedules": {
                schedule: {"expression": rule.get("ScheduleExpression"), "next": rule.get("State")}
                for schedule, rule in sorted(rules.items())
            },
            "consumers": consumers,
            "dead_letters": 0,
        }

    def invoke(self, payload: bytes, *, asynchronous: bool = False) -> Invocation:
        """Invoke the stage's alias on AWS: (status, headers as the local target gives them,
        body)."""
        config = self.config
        try:
            response = self.client.invoke(
                config.function_name, config.stage, payload, asynchronous=asynchronous
            )
        except AwsError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            raise NotDeployed(
                f"{config.stage} is not deployed ({config.function_name}:{config.stage} does "
                f"not exist in {self.client.resolved_region()}); `strum deploy {config.stage}` "
                "first"
            ) from None
        headers = {}
        if response.get("FunctionError"):
            headers["x-amz-function-error"] = str(response["FunctionError"])
        if response.get("LogResult"):
            headers["x-amz-log-result"] = str(response["LogResult"])
        if response.get("ExecutedVersion"):
            headers["x-amz-executed-version"] = str(response["ExecutedVersion"])
        return int(response.get("StatusCode") or 0), headers, bytes(response["Payload"])

    def logs(self, since: float, *, text: str | None = None) -> LogTail:
        """CloudWatch Logs of the stage's function from ``since`` on, each event once;
        ``text`` becomes a CloudWatch filter pattern (a quoted term)."""
        return LogFollower(self.client, self.config.function_name, since, text)

    def rollback(self, steps_back: int, report: Reporter) -> tuple[str, str]:
        """Point the stage's alias ``steps_back`` published versions back; (from, to)."""
        client = self.client
        name, stage = self.config.function_name, self.config.stage
        if owned_function(client, self.config) is None:
            raise DeployError(f"{name} is not deployed on AWS; run `strum deploy {stage}` first")
        alias = client.get_alias(name, stage)
        if alias is None:
            raise DeployError(f"{name} has no {stage} alias; run `strum deploy {stage}` first")
        now = str(alias["FunctionVersion"])
        published = [str(v["Version"]) for v in client.list_versions(name)]
        target = rollback_version(name, stage, now, published, steps_back)
        version = client.get_function(name, target)
        url = client.get_url_config(name, stage)
        move_alias_back(
            name,
            stage,
            now,
            target,
            configuration=(version or {}).get("Configuration") or {},
            url_mode=str(url.get("InvokeMode") or "BUFFERED").upper() if url else None,
            move_alias=lambda: client.update_alias(name, stage, target),
            set_url_mode=lambda mode: client.put_url_config(name, stage, mode, exists=True),
            report=report,
        )
        return now, target

    def undeploy(self, report: Reporter, *, purge_logs: bool = False) -> bool:
        """Remove everything the stage's deploys created; False if nothing was there.

        The log group stays unless ``purge_logs``: logs often outlive what wrote them.
        """
        return undeploy_stage(self.client, self.config, report, purge_logs=purge_logs)

    def manage(self, args: list[str]) -> dict[str, Any]:
        """Run a Django management command in the deployed function: output and exit code."""
        return manage_command(self, args)

    def executions(self) -> list[dict[str, Any]]:
        """The stage's durable executions on AWS, newest first."""
        return self.client.durable_executions(self.config.function_name)

    def dead_letters(self) -> DeadLetters:
        """AWS keeps failed async events at the stage's on-failure destination, not in strum."""
        raise UnsupportedOnTarget(
            "this command works with local stages only for now; stage "
            f"{self.config.stage!r} targets {self.config.target!r}"
        )
