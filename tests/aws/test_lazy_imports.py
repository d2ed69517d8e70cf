"""boto3 costs a few hundred milliseconds to import: only a call to AWS may pay for it."""

from __future__ import annotations

import pytest

from tests.test_imports import modules_imported_by


@pytest.mark.parametrize(
    "statement",
    [
        "import strum.cli",
        "import strum.aws.target, strum.aws.desired, strum.aws.execute, strum.aws.read",
        "from strum.aws.client import AwsClient\nAwsClient('eu-west-1')",
    ],
)
def test_boto3_is_imported_only_when_aws_is_called(statement):
    imported = modules_imported_by(statement)
    assert [name for name in imported if name.split(".")[0] in ("boto3", "botocore")] == []
