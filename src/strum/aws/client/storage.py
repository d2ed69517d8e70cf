"""S3 calls of ``strum.aws.client.AwsClient``: the bucket packages over 50 MB travel through,
and the notification configuration of buckets that send events to a stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strum.aws.client.base import ClientBase


class StorageCalls(ClientBase):
    """S3 buckets and objects, as strum uses them."""

    def head_bucket(self, bucket: str) -> dict[str, Any] | None:
        return self._maybe("s3", "head_bucket", Bucket=bucket)

    def bucket_region(self, bucket: str) -> str:
        found = self._call("s3", "get_bucket_location", Bucket=bucket).get("LocationConstraint")
        # S3's oldest quirks: us-east-1 reports no constraint, and eu-west-1 may say "EU".
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(found, str(found))

    def create_private_bucket(self, bucket: str, region: str, tags: dict[str, str]) -> None:
        """A bucket no one outside the account can read: public access blocked, tagged."""
        where = {} if region == "us-east-1" else {"LocationConstraint": region}
        self._call("s3", "create_bucket", Bucket=bucket, CreateBucketConfiguration=where)
        self._call(
            "s3",
            "put_public_access_block",
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self._call(
            "s3",
            "put_bucket_tagging",
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
        )

    def expire_objects(self, bucket: str, prefix: str, days: int) -> None:
        self._call(
            "s3",
            "put_bucket_lifecycle_configuration",
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "strum-packages",
                        "Filter": {"Prefix": prefix},
                        "Status": "Enabled",
                        "Expiration": {"Days": days},
                    }
                ]
            },
        )

    def head_object(self, bucket: str, key: str) -> dict[str, Any] | None:
        return self._maybe("s3", "head_object", Bucket=bucket, Key=key)

    def put_file(self, bucket: str, key: str, path: Path) -> None:
        with path.open("rb") as body:
            self._call("s3", "put_object", Bucket=bucket, Key=key, Body=body)

    def get_notifications(self, bucket: str) -> dict[str, Any]:
        return self._call("s3", "get_bucket_notification_configuration", Bucket=bucket)

    def put_notifications(self, bucket: str, configuration: dict[str, Any]) -> None:
        self._call(
            "s3",
            "put_bucket_notification_configuration",
            Bucket=bucket,
            NotificationConfiguration=configuration,
        )
