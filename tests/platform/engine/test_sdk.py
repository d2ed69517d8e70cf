"""boto3 as AWS's Python runtimes offer it, for an unsandboxed platform too: importable by a
function that does not package it, reaching the platform with the instance's credentials
(the sandboxed case is in tests/platform/sandbox/test_volumes.py)."""

from __future__ import annotations

import json

from strum.deploy.local import PlatformLambdaAPI
from tests.platform.packages import create_function, make_zip

LISTER = r"""
import boto3

def handler(event, context):
    return sorted(f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"])
"""


def test_a_function_lists_functions_with_the_runtimes_boto3(running_platform, lambda_client):
    create_function(lambda_client, "lister", Code={"ZipFile": make_zip({"app.py": LISTER})})
    policy = {"Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}
    with PlatformLambdaAPI.for_home(
        running_platform.platform.home, running_platform.endpoint
    ) as api:
        api.update_function_configuration(
            "lister", {"StrumPermissions": {"Network": True, "Policy": policy}}
        )
    response = lambda_client.invoke(FunctionName="lister", Payload=b"{}")
    assert json.loads(response["Payload"].read()) == ["lister"]
