"""The desired side of an AWS deploy: the stage's packages built for Lambda, and the
``DesiredStage`` that says what every resource of the stage should be."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsDeployError
from strum.aws.plan import DesiredStage, Mapping, Schedule, canonical
from strum.aws.state import role_name
from strum.deploy.environment import function_environment

Reporter = Callable[[str], AbstractContextManager[Any]]

# Lambda takes zips up to 50 MB in the request itself (CreateFunction, UpdateFunctionCode,
# PublishLayerVersion); larger ones must come from S3.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
POLLED_SOURCES = ("sqs", "kinesis", "dynamodb")


def desired_stage(
    config: Any,
    home: Any,
    client: AwsClient,
    report: Reporter,
    notes: list[str],
    *,
    upload_limit: int = DIRECT_UPLOAD_LIMIT,
) -> DesiredStage:
    """Build the stage's packages for Lambda and describe everything the stage should be.

    Packages larger than ``upload_limit`` bytes zipped go through S3 (tests lower it).
    """
    region = str(client.resolved_region())
    with report("checking the AWS account"):
        identity = client.identity()
    account, partition = str(identity["Account"]), str(identity["Arn"]).split(":")[1]
    desired = build_desired_stage(
        config, home, report, notes, account=account, region=region, partition=partition
    )
    staging = _staging(config, desired, upload_limit)
    return replace(desired, **staging) if staging else desired


def build_desired_stage(
    config: Any,
    home: Any,
    report: Reporter,
    notes: list[str],
    *,
    account: str,
    region: str,
    partition: str,
    host: dict[str, str] | None = None,
) -> DesiredStage:
    """``desired_stage`` for a known account, region and partition: no AWS call.

    ``strum template`` passes CloudFormation's pseudo parameters here (see
    ``strum.aws.template``) and ``host`` to stand in for the shell's variables.
    """
    from strum.aws.consumers_io import desired_consumers
    from strum.aws.policy import execution_policy, policy_warnings, project_uses_tasks, trust_policy
    from strum.build import Target, build
    from strum.deploy.local import event_invoke, package_spec, rule_name

    function = config.function_name
    target = Target(config.python, config.architecture, "aws")
    spec = package_spec(config, target, home)
    with report(f"building the package for {target.key}"):
        artifact = build(spec)
    notes.extend(artifact.notes)
    code_zip, code_sha, layer_zip, layer_sha = split_package(artifact, home.root / "cache")
    own_role = config.role_arn is None
    if own_role and len(role_name(function)) > 64:
        raise AwsDeployError(
            f"the role name {role_name(function)} is longer than IAM's 64 characters; shorten "
            "the project or stage name, or set role_arn to a role of your own"
        )
    policy = execution_policy(
        config,
        account=account,
        region=region,
        partition=partition,
        uses_tasks=project_uses_tasks(config.project_dir),
    )
    notes.extend(policy_warnings(config))
    schedules = []
    for name, schedule in sorted(config.schedules.items()):
        rule = rule_name(config, name)
        if len(rule) > 64:
            raise AwsDeployError(
                f"the EventBridge rule name {rule} is longer than 64 characters; use a shorter "
                f"name for schedule {name!r} in [tool.strum.schedules]"
            )
        schedules.append(Schedule(name, rule, schedule.expression, schedule.enabled))
    lambda_arn = f"arn:{partition}:lambda:{region}:{account}:function:"
    return DesiredStage(
        project=config.project,
        stage=config.stage,
        function=function,
        region=region,
        account=account,
        partition=partition,
        code_zip=code_zip,
        code_sha256=base64.b64encode(bytes.fromhex(code_sha)).decode(),
        runtime=f"python{target.python}",
        architecture=target.architecture,
        role_arn=config.role_arn or f"arn:{partition}:iam::{account}:role/{role_name(function)}",
        role_name=role_name(function) if own_role else None,
        trust=canonical(trust_policy()),
        policy=canonical(policy),
        layer_name=f"{config.project}-deps",
        layer_marker=f"strum deps sha256:{layer_sha} {target.key}",
        layer_zip=layer_zip,
        memory=config.memory,
        timeout=config.timeout,
        ephemeral_storage=config.ephemeral_storage,
        environment=function_environment(config, notes, host),
        description=f"strum: {config.project} ({config.stage})",
        reserved_concurrency=config.reserved_concurrency,
        url=config.url and not config.http_api,
        invoke_mode="RESPONSE_STREAM" if config.stream else "BUFFERED",
        http_api=config.http_api,
        domain=config.domain,
        schedules=tuple(schedules),
        mappings=_mappings(config, notes),
        consumers=desired_consumers(config),
        log_retention_days=config.log_retention_days,
        event_invoke=event_invoke(config, lambda_arn),
    )


def _staging(config: Any, desired: DesiredStage, limit: int) -> dict[str, Any]:
    """Where packages over ``limit`` bytes go: S3 keys named by content hash, the bucket.

    The config's ``bucket``, else strum's own per account and region (S3 names are global,
    so the account is in it).
    """
    from strum.build.zipfiles import file_sha256

    keys = {}
    if desired.code_zip.stat().st_size > limit:
        sha = base64.b64decode(desired.code_sha256).hex()
        keys["code_key"] = f"strum/{config.project}/code-{sha}.zip"
    layer = desired.layer_zip
    if layer is not None and layer.stat().st_size > limit:
        keys["layer_key"] = f"strum/{config.project}/layer-{file_sha256(layer)}.zip"
    if not keys:
        return {}
    return {
        "bucket": config.bucket or f"strum-{desired.account}-{desired.region}",
        "bucket_owned": config.bucket is None,
        **keys,
    }


def split_package(artifact: Any, cache: Path) -> tuple[Path, str, Path, str]:
    """The build's packages as Lambda wants them: (app zip, its SHA, layer zip, its SHA).

    strum's own runtime moves from the code zip into the layer, beside the dependencies
    (under ``python/``, which Lambda puts on ``sys.path``): it changes only when strum does,
    so a code change uploads the app's own files and manifest - a few KB - and nothing else.
    The router finds the manifest in the task root, where the app zip puts it. Both zips are
    deterministic and cached by content.
    """
    from strum.build.zipfiles import Entry, file_sha256, write_zip, zip_entries

    app: list[Entry] = []
    runtime: list[Entry] = []
    for entry in zip_entries(artifact.code_zip):
        (runtime if entry.arcname.startswith("strum/") else app).append(entry)
    app_zip = cache / "packages" / f"aws-app-{artifact.code_sha256[:20]}.zip"
    if not app_zip.exists():
        write_zip(app, app_zip)
    # Named by what goes in, so an unchanged runtime and lock never rebuild (or re-read)
    # the dependency zip.
    digest = hashlib.sha256(str(artifact.deps_sha256).encode())
    for entry in runtime:
        digest.update(b"\0" + entry.arcname.encode() + b"\0" + (entry.data or b""))
    layer_zip = cache / "layers" / f"aws-{digest.hexdigest()[:32]}.zip"
    if not layer_zip.exists():
        parts = runtime + (zip_entries(artifact.deps_zip) if artifact.deps_zip else [])
        entries = [
            Entry(f"python/{e.arcname}", data=e.data, executable=e.executable) for e in parts
        ]
        write_zip(entries, layer_zip)
    return app_zip, file_sha256(app_zip), layer_zip, file_sha256(layer_zip)


@dataclass(frozen=True)
class Upload:
    """One zip ``strum deploy`` sends for an AWS stage (``strum package`` reports them)."""

    kind: str  # "code": the function's code | "layer": dependencies and strum's runtime
    path: Path
    size: int
    via_s3: bool  # over Lambda's direct upload limit: staged in S3 first


def deploy_uploads(
    artifact: Any,
    cache: Path,
    out_dir: Path | None = None,
    *,
    project: str = "",
    limit: int = DIRECT_UPLOAD_LIMIT,
) -> tuple[Upload, ...]:
    """The zips an AWS deploy of ``artifact`` uploads - ``split_package``'s, not the build's
    single code zip - copied into ``out_dir`` (named ``<project>-code|layer-<hash>.zip``,
    as ``strum template`` names them) when given. No AWS call."""
    from strum.aws.export import copy_named

    code_zip, _, layer_zip, _ = split_package(artifact, cache)
    uploads = []
    for kind, path in (("code", code_zip), ("layer", layer_zip)):
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = copy_named(path, out_dir, f"{project}-{kind}" if project else kind)
        size = path.stat().st_size
        uploads.append(Upload(kind, path, size, size > limit))
    return tuple(uploads)


def _mappings(config: Any, notes: list[str]) -> tuple[Mapping, ...]:
    mappings = []
    for name, event in sorted(config.events.items()):
        if event.source not in POLLED_SOURCES:  # pushed: see strum.aws.consumers
            continue
        position = event.starting_position or ("LATEST" if event.source != "sqs" else None)
        mappings.append(
            Mapping(
                name=name,
                source_arn=str(event.arn),
                enabled=event.enabled,
                batch_size=event.batch_size,
                batch_window=event.batch_window,
                starting_position=position,
                report_failures=event.batch == "record",
            )
        )
    return tuple(mappings)
