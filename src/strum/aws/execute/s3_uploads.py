"""Packages over Lambda's 50 MB direct upload, uploaded to S3 first.

The bucket is the config's ``bucket``, or one strum makes per account and region
(``strum-<account>-<region>``): private, public access blocked, tagged, and its packages
expire after a month (Lambda copies the code when it takes it, so the objects only save a
later upload of the same content). Keys are content hashes: an object already there is
never uploaded again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.deploy.errors import DeployError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import DesiredStage

EXPIRE_DAYS = 30


def upload_package(
    client: AwsClient, d: DesiredStage, key: str, path: Path, produced: dict[str, Any]
) -> None:
    """Put ``path`` at ``s3://<bucket>/<key>`` unless it is there; the bucket made if ours."""
    bucket = str(d.bucket)
    if not produced.get("bucket_ready"):
        ensure_bucket(client, d)
        produced["bucket_ready"] = True
    if client.head_object(bucket, key) is None:
        client.put_file(bucket, key, path)


def ensure_bucket(client: AwsClient, d: DesiredStage) -> None:
    """Check the bucket is usable from the stage's region, making strum's own if missing."""
    bucket = str(d.bucket)
    fix = (
        f'set bucket = "<a bucket of yours in {d.region}>" in [tool.strum] (or the stage)'
        if d.bucket_owned
        else f"fix bucket = in the config, or remove it to let strum use strum-{d.account}-{d.region}"
    )
    try:
        found = client.head_bucket(bucket)
    except AwsError as exc:
        if exc.code in ("403", "AccessDenied"):
            raise DeployError(
                f"the S3 bucket {bucket} belongs to another AWS account (bucket names are "
                f"global) or the credentials may not use it; {fix}"
            ) from None
        raise
    if found is None:
        if not d.bucket_owned:
            raise DeployError(
                f"the S3 bucket {bucket} (bucket = in the config) does not exist; create it in "
                f"{d.region} (`aws s3 mb s3://{bucket} --region {d.region}`), or {fix}"
            )
        client.create_private_bucket(bucket, d.region, {"strum:purpose": "packages"})
        client.expire_objects(bucket, "strum/", EXPIRE_DAYS)
        return
    where = client.bucket_region(bucket)
    if where != d.region:
        raise DeployError(
            f"the S3 bucket {bucket} is in {where}, but Lambda in {d.region} takes code only "
            f"from a bucket in its own region; {fix}"
        )
