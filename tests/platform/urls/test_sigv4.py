"""SigV4 checking for AWS_IAM Function URLs, against requests botocore really signs."""

from __future__ import annotations

import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strum.platform.urls import sigv4
from strum.platform.urls.sigv4 import SignatureError

KEYS = {"AKIDSTRUMTEST": "secret-key"}


def signed(
    url="http://127.0.0.1:9000/orders/a%20b?x=1&y=a+b&z=%2F",
    body=b'{"a": 1}',
    key="AKIDSTRUMTEST",
    secret="secret-key",
    region="us-east-1",
    service="lambda",
    method="POST",
):
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "a/b"})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    raw_path = url.split("9000", 1)[1]
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:9000"
    return {"method": method, "raw_path": raw_path, "headers": headers, "body": body}


def check(request, keys=KEYS, **overrides):
    arguments = {**request, "secret_for": keys.get if keys is not None else None}
    arguments.setdefault("region", "us-east-1")
    arguments.update(overrides)
    return sigv4.verify(**arguments)


def test_a_botocore_signature_verifies():
    caller = check(signed())
    assert (caller.access_key, caller.region, caller.service) == (
        "AKIDSTRUMTEST",
        "us-east-1",
        "lambda",
    )


def test_get_without_body_and_root_path():
    assert check(signed(url="http://127.0.0.1:9000/", body=b"", method="GET"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(body=b"tampered"), "does not match"),
        (lambda r: r.update(raw_path="/other"), "does not match"),
        (lambda r: r["headers"].update(host="evil:1"), "does not match"),
        (lambda r: r["headers"].pop("authorization"), "Missing Authentication Token"),
        (lambda r: r["headers"].update(authorization="Bearer x"), "not an AWS4-HMAC-SHA256"),
        (lambda r: r["headers"].pop("x-amz-date"), "X-Amz-Date"),
    ],
)
def test_tampering_is_refused(change, message):
    request = signed()
    change(request)
    with pytest.raises(SignatureError, match=message):
        check(request)


def test_unknown_key_wrong_secret_region_and_service_are_refused():
    with pytest.raises(SignatureError, match="security token"):
        check(signed(key="AKIDOTHER"))
    with pytest.raises(SignatureError, match="does not match"):
        check(signed(secret="wrong"))
    with pytest.raises(SignatureError, match="region"):
        check(signed(region="eu-west-1"))
    with pytest.raises(SignatureError, match="service"):
        check(signed(service="s3"))


def test_old_signatures_expire():
    with pytest.raises(SignatureError, match="expired"):
        check(signed(), now=time.time() + 16 * 60)


def test_without_issued_keys_the_form_is_still_checked():
    assert check(signed(secret="anything"), keys=None).access_key == "AKIDSTRUMTEST"
    request = signed()
    request["headers"].pop("authorization")
    with pytest.raises(SignatureError):
        check(request, keys=None)
