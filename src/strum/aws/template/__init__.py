"""``strum template``: an AWS stage as a CloudFormation template, with its zips on disk.

``stage`` renders a ``DesiredStage`` into a template (pure), with ``consumers`` and
``domain`` adding their resources and ``cfn`` the building blocks; ``export`` builds the
packages and writes the files. No AWS call, no credentials.
"""

from __future__ import annotations

from strum.aws.template.export import TemplateFiles, default_output, write_template
from strum.aws.template.stage import (
    ACCOUNT,
    PARTITION,
    PSEUDO,
    REGION,
    env_parameters,
    render,
    stage_template,
)

__all__ = [
    "ACCOUNT",
    "PARTITION",
    "PSEUDO",
    "REGION",
    "TemplateFiles",
    "default_output",
    "env_parameters",
    "render",
    "stage_template",
    "write_template",
]
