"""A volume on the AWS target, against a real moto server: the stage's EFS access point
mounted through FileSystemConfigs, the function in the stage's VPC, the role allowed to
mount that access point and to make the VPC's network interfaces."""

from __future__ import annotations

import json

import pytest

from strum.aws import AwsTarget
from strum.aws.client import AwsClient
from strum.config import ConfigError, load_config
from strum.platform.home import Home
from tests.aws.conftest import make_project
from tests.aws.test_deploy import Quiet, boto, run_deploy

ACCESS_POINT = "arn:aws:elasticfilesystem:{region}:123456789012:access-point/fsap-0123456789abcdef0"


def network() -> tuple[str, str]:
    ec2 = boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="nfs", Description="NFS", VpcId=vpc)["GroupId"]
    return subnet, group


def test_a_volume_mounts_the_access_point_inside_the_vpc(aws, tmp_path):
    subnet, group = network()
    region = boto("lambda").meta.region_name
    access_point = ACCESS_POINT.format(region=region)
    volume = f'[tool.strum.volumes]\ndata = {{ path = "/mnt/data", efs = "{access_point}" }}'
    vpc = f'vpc = {{ subnets = ["{subnet}"], security_groups = ["{group}"] }}'
    root = make_project(tmp_path / "shop", stage_extra=vpc, top_extra=volume)
    sent = deploy_watching_create(root, tmp_path)
    # moto keeps no FileSystemConfigs (it answers without them): what was sent is checked.
    assert sent["FileSystemConfigs"] == [{"Arn": access_point, "LocalMountPath": "/mnt/data"}]
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod")
    assert conf["VpcConfig"]["SubnetIds"] == [subnet]
    assert conf["VpcConfig"]["SecurityGroupIds"] == [group]

    document = boto("iam").get_role_policy(RoleName=_role(), PolicyName=_policy_name())
    statements = {s["Sid"]: s for s in _statements(document)}
    mount = statements["MountVolumeData"]
    assert mount["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert mount["Condition"] == {
        "StringEquals": {"elasticfilesystem:AccessPointArn": access_point}
    }
    assert "ec2:CreateNetworkInterface" in statements["VpcNetworkInterfaces"]["Action"]

    # Without the volume and the VPC, the function leaves both.
    plain = make_project(tmp_path / "shop")
    run_deploy(plain, tmp_path)
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod")
    assert not conf.get("FileSystemConfigs")
    assert not (conf.get("VpcConfig") or {}).get("SubnetIds")
    AwsTarget(load_config(plain, "prod")).undeploy(Quiet().step)


def test_an_aws_volume_without_a_vpc_is_refused_before_anything_is_built(aws, tmp_path):
    access_point = ACCESS_POINT.format(region="eu-west-1")
    volume = f'[tool.strum.volumes]\ndata = {{ path = "/mnt/data", efs = "{access_point}" }}'
    root = make_project(tmp_path / "shop", top_extra=volume)
    with pytest.raises(ConfigError, match="Lambda mounts EFS only inside a VPC"):
        load_config(root, "prod")


def deploy_watching_create(root, tmp_path) -> dict:
    """Deploy the prod stage of ``root``; the parameters its CreateFunction call sent."""
    config = load_config(root, "prod")
    client = AwsClient(config.region, config.profile)
    sent: dict = {}

    def record(params, **_):
        sent.update(params)

    client._get_session().events.register("provide-client-params.lambda.CreateFunction", record)
    AwsTarget(config, Home(tmp_path / "strum-home"), client=client).deploy(
        Quiet().step, Quiet().info
    )
    return sent


def _role() -> str:
    roles = boto("iam").list_roles()["Roles"]
    return next(role["RoleName"] for role in roles if role["RoleName"].startswith("shop-prod"))


def _policy_name() -> str:
    return boto("iam").list_role_policies(RoleName=_role())["PolicyNames"][0]


def _statements(document: dict) -> list[dict]:
    policy = document["PolicyDocument"]
    return (json.loads(policy) if isinstance(policy, str) else policy)["Statement"]
