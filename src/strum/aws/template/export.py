"""``strum template``: the stage's CloudFormation template and its two zips, on disk.

The I/O around the pure ``strum.aws.template.stage``: build the packages (no AWS call, no
credentials), write the zips next to the template, named by content so a pipeline uploads
each once, and say how to deploy them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from strum.aws.packages import copy_named
from strum.aws.template.domain import ZONE_PARAMETER
from strum.deploy.errors import DeployError
from strum.deploy.target import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.platform.home import Home


@dataclass
class TemplateFiles:
    """What ``write_template`` wrote, and the commands that deploy it."""

    template: Path
    code_zip: Path
    layer_zip: Path | None
    stack: str
    parameters: tuple[str, ...]  # the NoEcho parameters a deploy must be given
    hosted_zone: bool = False  # the custom domain's HostedZoneId parameter is needed
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_output(config: ProjectConfig) -> Path:
    """``dist/<function>.template.json`` in the project: ``dist`` is never packaged."""
    return Path(config.project_dir) / "dist" / f"{config.function_name}.template.json"


def write_template(
    config: ProjectConfig,
    home: Home,
    report: Reporter,
    output: Path | None = None,
    *,
    force: bool = False,
) -> TemplateFiles:
    """Build the stage and write its template (and zips) to ``output``; no AWS call.

    An existing template is replaced only with ``force``. The zips are named by their
    content, so one already there is the same file and is left alone.
    """
    from strum.aws.desired import build_desired_stage
    from strum.aws.template.consumers import manual_steps
    from strum.aws.template.stage import PSEUDO, env_parameters, render, stage_template
    from strum.redact import looks_secret, redact_mapping

    if config.target != "aws":
        raise DeployError(
            f"strum template writes CloudFormation for AWS stages; stage {config.stage!r} "
            f'targets {config.target!r}. Add target = "aws" under '
            f"[tool.strum.stages.{config.stage}] or name an AWS stage"
        )
    output = Path(output or default_output(config)).resolve()
    if output.exists() and not force:
        raise DeployError(f"{output} exists; pass --force to replace it, or -o another file")
    notes: list[str] = []
    passed = tuple(config.permissions.env)
    desired = build_desired_stage(
        config,
        home,
        report,
        notes,
        host=dict.fromkeys(passed, ""),  # the stack's parameters give the values
        **PSEUDO,
    )
    secret = [
        name
        for name, value in desired.environment
        if name in passed or looks_secret(name) or redact_mapping({name: value})[name] != value
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    code_zip = copy_named(desired.code_zip, output.parent, f"{config.project}-code")
    layer_zip = (
        copy_named(desired.layer_zip, output.parent, f"{config.project}-layer")
        if desired.layer_zip and desired.layer_name
        else None
    )
    template = stage_template(
        desired,
        code_key=code_zip.name,
        layer_key=layer_zip.name if layer_zip else None,
        parameters=secret,
    )
    output.write_text(render(template), encoding="utf-8")
    parameters = tuple(sorted(env_parameters(desired.environment, secret).values()))
    zone = ZONE_PARAMETER in template["Parameters"]
    files = TemplateFiles(output, code_zip, layer_zip, config.function_name, parameters, zone)
    files.commands = _commands(config, files)
    files.notes = notes
    files.notes += manual_steps(desired)
    if parameters:
        files.notes.append(
            f"{', '.join(parameters)} are NoEcho parameters (secrets and permissions.env "
            "variables stay out of the template): give them in --parameter-overrides. A "
            "changed parameter alone does not publish a new version"
        )
    return files


def _commands(config: ProjectConfig, files: TemplateFiles) -> list[str]:
    """The shell commands that upload the zips and deploy the stack (BUCKET, and ZONE_ID
    for a custom domain, to fill in)."""
    region = f" --region {shlex.quote(config.region)}" if config.region else ""
    zips = [files.code_zip] + ([files.layer_zip] if files.layer_zip else [])
    commands = [
        f"aws s3 cp {shlex.quote(str(path))} s3://BUCKET/{path.name}{region}" for path in zips
    ]
    overrides = ["CodeBucket=BUCKET", f"CodeKey={files.code_zip.name}"]
    if files.layer_zip:
        overrides.append(f"LayerKey={files.layer_zip.name}")
    if files.hosted_zone:
        overrides.append(f"{ZONE_PARAMETER}=ZONE_ID")
    overrides += [f"{name}=..." for name in files.parameters]
    commands.append(
        f"aws cloudformation deploy --template-file {shlex.quote(str(files.template))} "
        f"--stack-name {files.stack} --capabilities CAPABILITY_NAMED_IAM{region} "
        f"--parameter-overrides {' '.join(overrides)}"
    )
    return commands
