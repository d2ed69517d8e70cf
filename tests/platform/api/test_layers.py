"""Lambda layers through boto3 against a real platform: AWS's shapes and errors for
PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion and the layer version policies, and functions that use layers."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.platform.packages import create_function, make_zip

LAYER_ARN = "arn:aws:lambda:us-east-1:000000000000:layer:deps"


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def message(excinfo) -> str:
    return excinfo.value.response["Error"]["Message"]


def publish(client, name: str = "deps", files: dict | None = None, **extra):
    content = make_zip(files or {"python/shared.py": "VALUE = 'from the layer'\n"})
    return client.publish_layer_version(LayerName=name, Content={"ZipFile": content}, **extra)


def test_publish_answers_in_aws_shape(lambda_client):
    content = make_zip({"python/shared.py": "VALUE = 1\n"})
    published = lambda_client.publish_layer_version(
        LayerName="deps",
        Description="strum deps sha256:abc",
        Content={"ZipFile": content},
        CompatibleRuntimes=["python3.11", "python3.12"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert published["LayerArn"] == LAYER_ARN
    assert published["LayerVersionArn"] == LAYER_ARN + ":1"
    assert published["Version"] == 1
    assert published["Description"] == "strum deps sha256:abc"
    assert published["CompatibleRuntimes"] == ["python3.11", "python3.12"]
    assert published["CompatibleArchitectures"] == ["x86_64"]
    assert published["LicenseInfo"] == "MIT"
    assert published["Content"]["CodeSize"] == len(content)
    digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert published["Content"]["CodeSha256"] == digest
    assert published["CreatedDate"]
    # The content link is presigned: anyone holding it may download the zip for a while.
    import urllib.request

    with urllib.request.urlopen(published["Content"]["Location"]) as response:
        assert response.read() == content

    got = lambda_client.get_layer_version(LayerName="deps", VersionNumber=1)
    assert got["LayerVersionArn"] == LAYER_ARN + ":1"
    assert got["Content"]["CodeSha256"] == digest
    by_arn = lambda_client.get_layer_version_by_arn(Arn=LAYER_ARN + ":1")
    assert by_arn["Version"] == 1 and by_arn["LayerArn"] == LAYER_ARN
    # LayerName may be the layer's ARN.
    assert lambda_client.get_layer_version(LayerName=LAYER_ARN, VersionNumber=1)["Version"] == 1


def test_versions_are_numbered_and_never_reused(lambda_client):
    for _ in range(3):
        publish(lambda_client)
    listed = lambda_client.list_layer_versions(LayerName="deps")["LayerVersions"]
    assert [v["Version"] for v in listed] == [3, 2, 1]  # newest first, as AWS lists them
    assert "Content" not in listed[0]
    lambda_client.delete_layer_version(LayerName="deps", VersionNumber=3)
    lambda_client.delete_layer_version(LayerName="deps", VersionNumber=3)  # idempotent on AWS
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        lambda_client.get_layer_version(LayerName="deps", VersionNumber=3)
    assert message(excinfo) == "The resource you requested does not exist."
    assert publish(lambda_client)["Version"] == 4
    for version in (1, 2, 4):
        lambda_client.delete_layer_version(LayerName="deps", VersionNumber=version)
    assert lambda_client.list_layers()["Layers"] == []
    assert publish(lambda_client)["Version"] == 5


def test_list_layers_filters_and_latest_matching_version(lambda_client):
    publish(
        lambda_client, "a", CompatibleRuntimes=["python3.11"], CompatibleArchitectures=["arm64"]
    )
    publish(lambda_client, "a", CompatibleRuntimes=["python3.12"])
    publish(lambda_client, "b", CompatibleRuntimes=["python3.11"])
    layers = lambda_client.list_layers()["Layers"]
    assert [
        (layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in layers
    ] == [
        ("a", 2),
        ("b", 1),
    ]
    assert layers[0]["LayerArn"].endswith(":layer:a")
    matching = lambda_client.list_layers(CompatibleRuntime="python3.11")["Layers"]
    assert [
        (layer["LayerName"], layer["LatestMatchingVersion"]["Version"]) for layer in matching
    ] == [
        ("a", 1),
        ("b", 1),
    ]
    arm = lambda_client.list_layers(CompatibleArchitecture="arm64")["Layers"]
    assert [layer["LayerName"] for layer in arm] == ["a"]
    versions = lambda_client.list_layer_versions(LayerName="a", CompatibleRuntime="python3.12")
    assert [v["Version"] for v in versions["LayerVersions"]] == [2]


def test_bad_layer_requests(lambda_client):
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.publish_layer_version(LayerName="deps", Content={"ZipFile": b"not a zip"})
    assert "Could not unzip uploaded file" in message(excinfo)
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        publish(lambda_client, CompatibleArchitectures=["sparc"])
    assert code(excinfo) in ("ValidationException", "ParamValidationError")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_layer_version_by_arn(Arn=LAYER_ARN + ":9")


def test_layer_version_policy(lambda_client):
    publish(lambda_client)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        lambda_client.get_layer_version_policy(LayerName="deps", VersionNumber=1)
    assert message(excinfo) == "No policy is associated with the given resource."
    added = lambda_client.add_layer_version_permission(
        LayerName="deps",
        VersionNumber=1,
        StatementId="share",
        Action="lambda:GetLayerVersion",
        Principal="123456789012",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "share",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "lambda:GetLayerVersion",
        "Resource": LAYER_ARN + ":1",
    }
    with pytest.raises(lambda_client.exceptions.ResourceConflictException):
        lambda_client.add_layer_version_permission(
            LayerName="deps",
            VersionNumber=1,
            StatementId="share",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    policy = lambda_client.get_layer_version_policy(LayerName="deps", VersionNumber=1)
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["share"]
    assert policy["RevisionId"] == added["RevisionId"]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.remove_layer_version_permission(
            LayerName="deps", VersionNumber=1, StatementId="other"
        )
    lambda_client.remove_layer_version_permission(
        LayerName="deps", VersionNumber=1, StatementId="share"
    )
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_layer_version_policy(LayerName="deps", VersionNumber=1)


def test_function_layers_in_configuration_and_versions(lambda_client):
    first = publish(lambda_client)["LayerVersionArn"]
    second = publish(lambda_client, "other")["LayerVersionArn"]
    created = create_function(lambda_client, Layers=[first], Publish=True)
    size = lambda_client.get_layer_version_by_arn(Arn=first)["Content"]["CodeSize"]
    assert created["Layers"] == [{"Arn": first, "CodeSize": size}]
    lambda_client.update_function_configuration(FunctionName="fn", Layers=[second, first])
    latest = lambda_client.get_function_configuration(FunctionName="fn")
    assert [layer["Arn"] for layer in latest["Layers"]] == [second, first]
    # A published version keeps the layers it was published with.
    version = lambda_client.get_function(FunctionName="fn", Qualifier="1")["Configuration"]
    assert [layer["Arn"] for layer in version["Layers"]] == [first]
    lambda_client.update_function_configuration(FunctionName="fn", Layers=[])
    assert "Layers" not in lambda_client.get_function_configuration(FunctionName="fn")
    # A deleted version can no longer be added, but the version using it still runs it.
    lambda_client.delete_layer_version(LayerName="deps", VersionNumber=1)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.update_function_configuration(FunctionName="fn", Layers=[first])
    assert message(excinfo) == f"Layer version {first} does not exist."
    answer = lambda_client.invoke(FunctionName="fn", Qualifier="1", Payload=b"{}")
    answer["Payload"].read()
    assert "FunctionError" not in answer


def test_function_layer_errors_as_aws(lambda_client):
    arns = [publish(lambda_client, f"l{index}")["LayerVersionArn"] for index in range(6)]
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        create_function(lambda_client, Layers=arns)
    assert message(excinfo) == "Cannot reference more than 5 layers."
    missing = "arn:aws:lambda:us-east-1:000000000000:layer:nothing:1"
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        create_function(lambda_client, Layers=[missing])
    assert message(excinfo) == f"Layer version {missing} does not exist."
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(lambda_client, Layers=["arn:aws:lambda:us-east-1:000000000000:layer:x"])
    assert code(excinfo) == "ValidationException"


def test_code_and_layers_over_250_mb_unzipped_are_refused(lambda_client):
    # Highly compressible: 3 x 90 MB of zeros zip to a few hundred KB each.
    import io
    import zipfile

    def big(name: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"python/{name}.bin", b"\0" * 90_000_000)
        return buffer.getvalue()

    arns = [
        lambda_client.publish_layer_version(LayerName=name, Content={"ZipFile": big(name)})[
            "LayerVersionArn"
        ]
        for name in ("a", "b")
    ]
    create_function(lambda_client, Layers=arns)
    third = lambda_client.publish_layer_version(LayerName="c", Content={"ZipFile": big("c")})
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.update_function_configuration(
            FunctionName="fn", Layers=[*arns, third["LayerVersionArn"]]
        )
    assert message(excinfo).startswith(
        "Function code combined with layers exceeds the maximum allowed size of 262144000 "
        "bytes. The actual size is "
    )


def test_a_function_may_only_use_layers_its_creator_may_read(running_platform, lambda_client):
    from strum.deploy.local import PlatformLambdaAPI
    from strum.deploy.local.client import SigningKey

    allowed = publish(lambda_client, "open")["LayerVersionArn"]
    hidden = publish(lambda_client, "hidden")["LayerVersionArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"},
            {"Effect": "Allow", "Action": "lambda:GetLayerVersion", "Resource": allowed},
        ],
    }
    owner = running_platform.owner
    with PlatformLambdaAPI(
        running_platform.endpoint, SigningKey(owner.access_key_id, owner.secret)
    ) as api:
        created = api.create_key("deployer", json.dumps(policy))
    deployer = running_platform.client(key=(created["AccessKeyId"], created["SecretAccessKey"]))
    with pytest.raises(deployer.exceptions.ClientError) as excinfo:
        create_function(deployer, "sneaky", Layers=[allowed, hidden])
    assert code(excinfo) == "AccessDeniedException"
    assert "lambda:GetLayerVersion" in message(excinfo)
    assert create_function(deployer, "fine", Layers=[allowed])["Layers"][0]["Arn"] == allowed
