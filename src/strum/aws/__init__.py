"""The AWS target: a stage on AWS Lambda through boto3 (plan, then execute).

``AwsTarget`` implements ``strum.deploy.Target``. ``model`` holds the data (``DesiredStage``,
``CurrentStage`` and their parts); ``desired`` builds the desired side from the config,
``read`` the current side from AWS; ``plan`` is pure and never imports a client;
``execute`` is the only code that writes; ``template`` writes CloudFormation instead;
``client`` is the one boto3 wrapper. Nothing here imports boto3 until a call is made.
"""

from __future__ import annotations

from strum.aws.client import AwsClient, CallLog
from strum.aws.errors import AwsCredentialsError, AwsError, AwsPermissionError, AwsUnreachable
from strum.aws.execute import Patience
from strum.aws.target import AwsDeployResult, AwsTarget
from strum.aws.template import TemplateFiles, write_template

__all__ = [
    "AwsClient",
    "AwsCredentialsError",
    "AwsDeployResult",
    "AwsError",
    "AwsPermissionError",
    "AwsTarget",
    "AwsUnreachable",
    "CallLog",
    "Patience",
    "TemplateFiles",
    "write_template",
]
