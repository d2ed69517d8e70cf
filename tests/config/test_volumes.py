"""``[tool.strum.volumes]`` and ``vpc``: a named volume on a local stage, an EFS access
point inside a VPC on an AWS stage, and a clear problem for everything else."""

from __future__ import annotations

from strum.config import Volume, Vpc, load_config
from tests.config.support import problems

EFS = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0"
VPC = 'vpc = { subnets = ["subnet-0123456789abcdef0"], security_groups = ["sg-0123456789abcdef0"] }'


def test_a_local_stage_names_a_volume(project):
    config = load_config(
        project('[tool.strum]\napp = "hello:app"\n[tool.strum.volumes]\ndata = "/mnt/data"\n')
    )
    assert config.volumes == (Volume("data", "/mnt/data"),)


def test_an_aws_stage_names_its_access_point_and_vpc(project):
    directory = project(
        f"""
        [tool.strum]
        app = "hello:app"
        volumes = {{ data = {{ path = "/mnt/data", efs = "{EFS}" }} }}

        [tool.strum.stages.prod]
        target = "aws"
        region = "eu-west-1"
        {VPC}
        """
    )
    prod = load_config(directory, "prod")
    assert prod.volumes == (Volume("data", "/mnt/data", EFS),)
    assert prod.vpc == Vpc(("subnet-0123456789abcdef0",), ("sg-0123456789abcdef0",))
    # The local stage uses the same key as a volume of the platform's.
    assert load_config(directory).volumes == (Volume("data", "/mnt/data", EFS),)


def test_an_aws_volume_needs_an_access_point(project):
    directory = project(
        f"""
        [tool.strum]
        app = "hello:app"
        volumes = {{ data = "/mnt/data" }}
        [tool.strum.stages.prod]
        target = "aws"
        {VPC}
        """
    )
    (problem,) = problems(directory, "prod")
    assert "tool.strum.volumes.data: on the AWS target a volume is an Amazon EFS access point" in (
        problem
    )


def test_an_aws_volume_needs_a_vpc(project):
    directory = project(
        f"""
        [tool.strum]
        app = "hello:app"
        volumes = {{ data = {{ path = "/mnt/data", efs = "{EFS}" }} }}
        [tool.strum.stages.prod]
        target = "aws"
        """
    )
    (problem,) = problems(directory, "prod")
    assert "Lambda mounts EFS only inside a VPC, and this stage has none: add vpc" in problem


def test_bad_volumes_are_each_reported(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        [tool.strum.volumes]
        data = "/data"
        up = "/mnt/.."
        "../etc" = "/mnt/etc"
        odd = { path = "/mnt/odd", efs = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-1", size = 1 }
        list = ["/mnt/x"]
        nopath = { efs = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0" }
        """
    )
    found = "\n".join(problems(directory))
    assert 'volumes.data: "/data" is not a mount path Lambda accepts' in found
    assert 'volumes.up: "/mnt/.." is not a mount path' in found
    assert '"../etc" cannot name a volume' in found
    assert "volumes.odd.efs:" in found and "not an EFS access point ARN" in found
    assert "volumes.odd.size:" in found
    assert "volumes.list: must be a mount path or a table" in found
    assert "volumes.nopath: path is missing" in found


def test_at_most_one_volume(project):
    directory = project(
        '[tool.strum]\napp = "hello:app"\n[tool.strum.volumes]\na = "/mnt/a"\nb = "/mnt/b"\n'
    )
    (problem,) = problems(directory)
    assert "Lambda mounts at most one file system per function" in problem


def test_bad_vpc(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        [tool.strum.stages.prod]
        target = "aws"
        vpc = { subnets = ["subnet-xyz"], security_groups = [] }
        """
    )
    found = "\n".join(problems(directory, "prod"))
    assert '"subnet-xyz" is not an id like "subnet-0123456789abcdef0"' in found
    assert "security_groups: needs at least one id" in found
