"""The one boto3 wrapper strum uses: ``AwsClient``, one module of calls per service.

``client`` combines the per-service calls (``functions``: Lambda, ``http``: API Gateway and
ACM, ``dns``: Route 53, ``events``: EventBridge, SNS and CloudWatch Logs, ``storage``: S3)
on ``base``, which records every call (``CallLog``) and turns botocore's errors into
strum's. boto3 is imported only when the first call is made.
"""

from __future__ import annotations

from strum.aws.client.base import CallLog, ClientBase
from strum.aws.client.client import AwsClient

__all__ = ["AwsClient", "CallLog", "ClientBase"]
