"""Packages over Lambda's direct upload limit go through S3 (the limit lowered to 1 byte
here, rather than building a 50 MB package): against a real moto server."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest

from strum.aws import AwsTarget
from strum.aws.client import AwsClient
from strum.config import load_config
from strum.deploy import DeployError
from strum.platform.home import Home
from tests.aws.conftest import REGION, make_project
from tests.aws.test_deploy import ACCOUNT, Quiet

BUCKET = f"strum-{ACCOUNT}-{REGION}"


def deploy(root, tmp_path, limit=1):
    config = load_config(root, "prod")
    client = AwsClient(config.region, None)
    quiet = Quiet()
    result = AwsTarget(config, Home(tmp_path / "home"), client=client, upload_limit=limit).deploy(
        quiet.step, quiet.info
    )
    return result, client


def test_big_packages_go_through_a_private_bucket_named_by_content(aws, tmp_path, wheelhouse):
    root = make_project(tmp_path / "shop", dependencies='"tinydep==1.0"')
    result, client = deploy(root, tmp_path)
    s3 = boto3.client("s3", region_name=REGION)

    # strum's own bucket: in the stage's region, private, tagged, packages expire.
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] == [
        {"Key": "strum:purpose", "Value": "packages"}
    ]
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["Expiration"] == {"Days": 30}

    # Both zips, keyed by their SHA-256; Lambda took the code from there.
    desired = result.steps[0].desired
    code_sha = hashlib.sha256(desired.code_zip.read_bytes()).hexdigest()
    layer_sha = hashlib.sha256(desired.layer_zip.read_bytes()).hexdigest()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [f"strum/shop/code-{code_sha}.zip", f"strum/shop/layer-{layer_sha}.zip"]
    conf = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName="shop-prod", Qualifier="prod"
    )
    assert conf["CodeSha256"] == base64.b64encode(bytes.fromhex(code_sha)).decode()
    # Only small requests travelled to Lambda: no zip in them.
    lambda_bytes = client.log.bytes_sent - desired.code_zip.stat().st_size
    assert lambda_bytes < desired.layer_zip.stat().st_size + 20000

    # Nothing changed: nothing written, not even a look at S3.
    _, client = deploy(root, tmp_path)
    assert client.log.writes == []
    assert not [call for call in client.log.calls if call[0] == "s3"]

    # A code change uploads the new app zip only; the layer object stays as it was.
    app = root / "app.py"
    app.write_text(app.read_text() + "\n# two\n")
    _, client = deploy(root, tmp_path)
    assert client.log.writes == [
        ("s3", "PutObject"),
        ("lambda", "UpdateFunctionCode"),
        ("lambda", "PublishVersion"),
        ("lambda", "Invoke"),  # the new version's init check, before the alias moves
        ("lambda", "UpdateAlias"),
    ]
    assert len(s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == 3


def test_an_object_already_in_the_bucket_is_not_uploaded_again(aws, tmp_path):
    root = make_project(tmp_path / "shop")
    deploy(root, tmp_path)
    AwsTarget(load_config(root, "prod")).undeploy(Quiet().step)
    _, client = deploy(root, tmp_path)
    assert ("s3", "PutObject") not in client.log.writes
    assert ("s3", "CreateBucket") not in client.log.writes
    assert ("lambda", "CreateFunction") in client.log.writes


def test_the_configs_bucket_is_used_and_must_exist_in_the_region(aws, tmp_path):
    root = make_project(tmp_path / "shop", top_extra='bucket = "team-artifacts"')
    with pytest.raises(DeployError) as failure:
        deploy(root, tmp_path)
    assert "the S3 bucket team-artifacts (bucket = in the config) does not exist" in str(
        failure.value
    )
    assert f"aws s3 mb s3://team-artifacts --region {REGION}" in str(failure.value)

    s3 = boto3.client("s3", region_name="us-west-2")
    s3.create_bucket(
        Bucket="team-artifacts", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    with pytest.raises(DeployError, match=r"is in us-west-2, but Lambda in eu-west-1"):
        deploy(root, tmp_path)

    s3.delete_bucket(Bucket="team-artifacts")
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="team-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    result, client = deploy(root, tmp_path)
    assert result.version == "1"
    assert ("s3", "CreateBucket") not in client.log.writes
    objects = s3.list_objects_v2(Bucket="team-artifacts")["Contents"]
    assert {o["Key"].split("/")[1] for o in objects} == {"shop"}


def test_small_packages_travel_in_the_request(aws, tmp_path):
    root = make_project(tmp_path / "shop")
    _, client = deploy(root, tmp_path, limit=50 * 1024 * 1024)
    assert not [call for call in client.log.calls if call[0] == "s3"]
