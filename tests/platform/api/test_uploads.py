"""Big packages: Lambda's limits with AWS's errors, and the streamed, hash-bound upload
route that stands in for staging a package in S3."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile

import pytest

from strum.deploy.local import LambdaAPIError, PlatformLambdaAPI
from strum.deploy.local.client import SigningKey
from strum.runtime.sigv4 import sign
from tests.platform.packages import ROLE, create_function, make_zip


def incompressible_zip(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'big'\n")
        archive.writestr("blob.bin", os.urandom(size))
    return buffer.getvalue()


def api_for(running_platform) -> PlatformLambdaAPI:
    owner = running_platform.owner
    return PlatformLambdaAPI(
        running_platform.endpoint, SigningKey(owner.access_key_id, owner.secret)
    )


def test_an_inline_package_over_50_mb_is_refused_as_aws_does(running_platform, lambda_client):
    data = incompressible_zip(51 * 1024 * 1024)
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(lambda_client, Code={"ZipFile": data})
    error = excinfo.value.response["Error"]
    assert error["Code"] == "RequestEntityTooLargeException"
    assert error["Message"] == (
        "Request must be smaller than 69905067 bytes for the CreateFunction operation"
    )


def test_a_big_package_is_staged_then_named(running_platform, lambda_client):
    # 55 MB: over the inline limit, which the client never tries - it uploads.
    data = incompressible_zip(55 * 1024 * 1024)
    with api_for(running_platform) as api:
        staged = api.upload(data)
        assert staged == {
            "S3Bucket": "strum-uploads",
            "S3Key": hashlib.sha256(data).hexdigest() + ".zip",
        }
        api.create_function(
            {
                "FunctionName": "big",
                "Role": ROLE,
                "Runtime": "python3.11",
                "Handler": "app.handler",
            },
            data,
        )
    configuration = lambda_client.get_function_configuration(FunctionName="big")
    assert configuration["CodeSize"] == len(data)
    answer = lambda_client.invoke(FunctionName="big", Payload=b"{}")
    assert answer["Payload"].read() == b'"big"'
    # boto3 names the staged upload as it would name an S3 object.
    lambda_client.update_function_code(FunctionName="big", **staged)
    layer = lambda_client.publish_layer_version(LayerName="big", Content=staged)
    assert layer["Content"]["CodeSize"] == len(data)


def test_an_upload_is_held_to_its_signed_hash(running_platform):
    data = make_zip({"app.py": "x = 1\n"})
    sha = hashlib.sha256(data).hexdigest()
    owner = running_platform.owner
    host = running_platform.endpoint.split("//", 1)[1]

    def put(path_sha: str, claimed: str, body: bytes) -> tuple[int, str]:
        headers = sign(
            method="PUT", host=host, raw_path=f"/strum/v1/uploads/{path_sha}", body=b"",
            access_key=owner.access_key_id, secret=owner.secret, region="us-east-1",
            headers={"X-Amz-Content-Sha256": claimed},
        )  # fmt: skip
        request = urllib.request.Request(
            f"{running_platform.endpoint}/strum/v1/uploads/{path_sha}",
            data=body, method="PUT", headers=headers,
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.headers.get("x-amzn-ErrorType", "")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("x-amzn-ErrorType", "")

    assert put(sha, sha, data)[0] == 201
    # Another body under a signature for this hash: refused, nothing stored under it.
    other = make_zip({"app.py": "x = 2\n"})
    assert put(sha, sha, other) == (400, "InvalidParameterValueException")
    # Unsigned payloads cannot stream: the route would have nothing to hold the body to.
    assert put(sha, "UNSIGNED-PAYLOAD", data)[0] == 403
    # A signature for one hash cannot name another path.
    other_sha = hashlib.sha256(other).hexdigest()
    assert put(other_sha, sha, other)[0] == 400
    # Unsigned requests never reach it.
    request = urllib.request.Request(
        f"{running_platform.endpoint}/strum/v1/uploads/{sha}", data=data, method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request)
    excinfo.value.close()
    assert excinfo.value.code == 403


def test_a_key_without_upload_permission_is_refused(running_platform):
    with api_for(running_platform) as api:
        created = api.create_key(
            "reader",
            '{"Version": "2012-10-17", "Statement": [{"Effect": '
            '"Allow", "Action": "lambda:GetFunction", "Resource": "*"}]}',
        )
    key = SigningKey(created["AccessKeyId"], created["SecretAccessKey"])
    with (
        PlatformLambdaAPI(running_platform.endpoint, key) as api,
        pytest.raises(LambdaAPIError) as excinfo,
    ):
        api.upload(make_zip({"app.py": ""}))
    assert excinfo.value.code == "AccessDeniedException"


def test_content_the_platform_stores_is_named_without_sending_it(lambda_client):
    data = make_zip({"python/shared.py": "VALUE = 1\n"})
    first = lambda_client.publish_layer_version(LayerName="one", Content={"ZipFile": data})
    named = {"S3Bucket": "strum-uploads", "S3Key": hashlib.sha256(data).hexdigest() + ".zip"}
    second = lambda_client.publish_layer_version(LayerName="two", Content=named)
    assert second["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
