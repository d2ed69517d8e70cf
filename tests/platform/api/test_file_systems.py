"""FileSystemConfigs on the control API: Lambda's model limits and errors, the platform's
volume ARNs, and every ARN or mount path that would escape the volume directory refused.

AWS: https://docs.aws.amazon.com/lambda/latest/api/API_FileSystemConfig.html (LocalMountPath
pattern ``/mnt/[a-zA-Z0-9-_.]+``, max 160; FileSystemConfigList max 1 item).
"""

from __future__ import annotations

import json

import pytest

from strum.platform.volumes import VolumeError, volume_arn, volume_id
from tests.platform.api.test_functions import error_code, error_message
from tests.platform.packages import create_function

ARN = volume_arn("us-east-1", "000000000000", "data")


def test_file_system_is_stored_answered_and_removed(lambda_client):
    created = create_function(
        lambda_client, FileSystemConfigs=[{"Arn": ARN, "LocalMountPath": "/mnt/data"}]
    )
    assert created["FileSystemConfigs"] == [{"Arn": ARN, "LocalMountPath": "/mnt/data"}]
    got = lambda_client.get_function_configuration(FunctionName="fn")
    assert got["FileSystemConfigs"] == [{"Arn": ARN, "LocalMountPath": "/mnt/data"}]
    updated = lambda_client.update_function_configuration(FunctionName="fn", FileSystemConfigs=[])
    assert "FileSystemConfigs" not in updated


def test_an_access_point_arn_from_aws_names_a_volume_of_that_name(lambda_client):
    arn = "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-0123456789abcdef0"
    created = create_function(
        lambda_client, FileSystemConfigs=[{"Arn": arn, "LocalMountPath": "/mnt/efs"}]
    )
    assert created["FileSystemConfigs"][0]["Arn"] == arn


@pytest.mark.parametrize(
    ("path", "code", "fragment"),
    [
        # Lambda's model pattern: answered as a ValidationException.
        ("/tmp/data", "ValidationException", "Member must satisfy regular expression pattern"),
        ("/mnt/", "ValidationException", "fileSystemConfigs.1.member.localMountPath"),
        ("/mnt/a/b", "ValidationException", "/mnt/[a-zA-Z0-9-_.]+"),
        ("/mnt/" + "a" * 160, "ValidationException", "less than or equal to 160"),
        # The pattern lets these through; they would mount over / or /mnt itself.
        ("/mnt/..", "InvalidParameterValueException", "one directory directly under /mnt"),
        ("/mnt/.", "InvalidParameterValueException", "one directory directly under /mnt"),
    ],
)
def test_mount_paths_outside_one_mnt_directory_are_refused(lambda_client, path, code, fragment):
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(lambda_client, FileSystemConfigs=[{"Arn": ARN, "LocalMountPath": path}])
    assert error_code(excinfo) == code
    assert fragment in error_message(excinfo)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/..",
        "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/.",
        "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/a/../b",
        "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/",
        "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/data",
        "arn:aws:s3:::bucket/data",
        "../../etc",
    ],
)
def test_arns_outside_the_access_point_pattern_are_refused_by_the_model(lambda_client, arn):
    # Lambda's model: FileSystemArn must be ...:access-point/fsap-<17 hex digits>.
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(
            lambda_client, FileSystemConfigs=[{"Arn": arn, "LocalMountPath": "/mnt/data"}]
        )
    assert error_code(excinfo) == "ValidationException"
    assert "fileSystemConfigs.1.member.arn" in error_message(excinfo)


def test_another_accounts_access_point_is_refused(lambda_client):
    arn = volume_arn("us-east-1", "111111111111", "data")
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        create_function(
            lambda_client, FileSystemConfigs=[{"Arn": arn, "LocalMountPath": "/mnt/data"}]
        )
    assert "belongs to account 111111111111" in error_message(excinfo)


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", ".hidden"])
def test_a_volume_name_that_could_escape_its_directory_has_no_id(name):
    with pytest.raises(VolumeError):
        volume_id(name)


def test_at_most_one_file_system(lambda_client):
    other = volume_arn("us-east-1", "000000000000", "other")
    configs = [
        {"Arn": ARN, "LocalMountPath": "/mnt/data"},
        {"Arn": other, "LocalMountPath": "/mnt/other"},
    ]
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(lambda_client, FileSystemConfigs=configs)
    assert error_code(excinfo) == "ValidationException"
    assert "at 'fileSystemConfigs' failed to satisfy constraint: Member must have length " in (
        error_message(excinfo)
    )


def test_without_a_sandbox_a_volume_is_refused_at_start_not_mounted_on_the_host(
    running_platform, lambda_client
):
    # The platform of this fixture runs unsandboxed: /mnt/data would be the host's own.
    create_function(lambda_client, FileSystemConfigs=[{"Arn": ARN, "LocalMountPath": "/mnt/data"}])
    response = lambda_client.invoke(FunctionName="fn", Payload=b"{}")
    document = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert document["errorType"] == "Runtime.InvalidEntrypoint"
    assert "needs the platform's sandbox" in document["errorMessage"]
    assert not (running_platform.platform.home.volumes / volume_id("data")).exists()
