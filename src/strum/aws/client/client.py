"""The one boto3 wrapper strum uses: only the calls the AWS target makes, strum's errors.

``AwsClient`` opens a boto3 session with the standard credential chain (the stage's
``profile``, then the environment, SSO, instance roles...) and boto3's own endpoint settings
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``), so nothing here invents settings of
its own. Every call is recorded (``calls``, ``writes``, ``bytes_sent``) so deploys can be
measured and a no-op deploy proven to write nothing. Getters return ``None`` for a resource
that does not exist instead of raising.

boto3 is imported only when a client is first made: ``strum --help`` never pays for it.
"""

from __future__ import annotations

from typing import Any

from strum.aws.client.base import ClientBase
from strum.aws.client.dns import DnsCalls
from strum.aws.client.events import EventCalls
from strum.aws.client.functions import LambdaCalls
from strum.aws.client.http import HttpCalls
from strum.aws.client.storage import StorageCalls


class AwsClient(LambdaCalls, HttpCalls, DnsCalls, EventCalls, StorageCalls, ClientBase):
    """Typed access to the AWS services the AWS target uses (one service per module)."""

    # -- STS ------------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        """``Account`` and ``Arn`` of the caller."""
        return self._call("sts", "get_caller_identity")

    def tagged(self, tags: dict[str, str], resource_type: str) -> list[str]:
        """ARNs of the resources of ``resource_type`` (e.g. ``lambda:function``) with ``tags``."""
        filters = [{"Key": key, "Values": [value]} for key, value in sorted(tags.items())]
        found = self._pages(
            "resourcegroupstaggingapi",
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=filters,
            ResourceTypeFilters=[resource_type],
        )
        return [str(resource["ResourceARN"]) for resource in found]

    # -- IAM ------------------------------------------------------------------------------

    def get_role(self, name: str) -> dict[str, Any] | None:
        found = self._maybe("iam", "get_role", RoleName=name)
        return found["Role"] if found else None

    def get_role_policy(self, role: str, policy: str) -> dict[str, Any] | None:
        found = self._maybe("iam", "get_role_policy", RoleName=role, PolicyName=policy)
        if found is None:
            return None
        document = found["PolicyDocument"]
        if isinstance(document, str):  # URL-encoded JSON on the wire; boto3 usually decodes
            import json
            from urllib.parse import unquote

            document = json.loads(unquote(document))
        return dict(document)

    def list_role_policies(self, role: str) -> list[str]:
        return list(self._pages("iam", "list_role_policies", "PolicyNames", RoleName=role))

    def create_role(self, name: str, trust: str, description: str, tags: dict[str, str]) -> str:
        role = self._call(
            "iam",
            "create_role",
            RoleName=name,
            AssumeRolePolicyDocument=trust,
            Description=description,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )["Role"]
        return str(role["Arn"])

    def put_role_policy(self, role: str, policy: str, document: str) -> None:
        self._call(
            "iam", "put_role_policy", RoleName=role, PolicyName=policy, PolicyDocument=document
        )

    def update_trust(self, role: str, trust: str) -> None:
        self._call("iam", "update_assume_role_policy", RoleName=role, PolicyDocument=trust)

    def delete_role(self, name: str) -> None:
        for policy in self.list_role_policies(name):
            self._call("iam", "delete_role_policy", RoleName=name, PolicyName=policy)
        self._call("iam", "delete_role", RoleName=name)
