"""SigV4 verification against requests signed by botocore's own signer (what boto3 sends)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strum.platform.errors import SignatureRejected
from strum.platform.identity.signatures import parse, verify

KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://127.0.0.1:8700"


def signed(
    method="GET",
    path="/2015-03-31/functions/",
    body=b"",
    *,
    secret=SECRET,
    token=None,
    region="us-east-1",
    service="lambda",
    headers=None,
):
    request = AWSRequest(method=method, url=ENDPOINT + path, data=body, headers=headers or {})
    SigV4Auth(Credentials(KEY_ID, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    split = urlsplit(prepared.url)
    raw_path = split.path + ("?" + split.query if split.query else "")
    lowered = {
        name.lower(): value.decode() if isinstance(value, bytes) else value
        for name, value in prepared.headers.items()
    }
    lowered.setdefault("host", split.netloc)
    return method, raw_path, lowered, body or b""


def check(method, raw_path, headers, body, *, secret=SECRET, now=None):
    signed_by = parse(headers=headers, now=now)
    verify(signed_by, secret=secret, method=method, raw_path=raw_path, headers=headers, body=body)
    return signed_by


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/2015-03-31/functions/", b""),
        ("GET", "/", b""),
        ("GET", "/2015-03-31/functions/?MaxItems=5&Marker=a%2Fb", b""),
        ("GET", "/2015-03-31/functions/orders/configuration?Qualifier=prod", b""),
        ("POST", "/2015-03-31/functions/orders/invocations", b'{"hello": "world"}'),
        ("PUT", "/2015-03-31/functions/orders/code", b"\x00\x01zip bytes"),
        (
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders",
            b"",
        ),
        ("GET", "/path%20with%20spaces/%C3%A9t%C3%A9", b""),
        ("DELETE", "/2015-03-31/functions/orders?Qualifier=%24LATEST", b""),
    ],
)
def test_what_botocore_signs_verifies(method, path, body):
    signed_by = check(*signed(method, path, body))
    assert (signed_by.access_key_id, signed_by.region, signed_by.service) == (
        KEY_ID,
        "us-east-1",
        "lambda",
    )
    assert signed_by.session_token is None


def test_the_region_is_the_signers():
    assert check(*signed(region="eu-west-1")).region == "eu-west-1"


def test_a_session_token_is_read_and_must_be_signed():
    method, path, headers, body = signed(token="a-session-token")
    assert check(method, path, headers, body).session_token == "a-session-token"
    headers["signedheaders-tampered"] = "x"
    headers["authorization"] = headers["authorization"].replace(";x-amz-security-token", "")
    with pytest.raises(SignatureRejected) as info:
        parse(headers=headers)
    assert info.value.error_type == "IncompleteSignatureException"


def rejected(method, raw_path, headers, body, **kwargs) -> tuple[int, str, str]:
    with pytest.raises(SignatureRejected) as info:
        check(method, raw_path, headers, body, **kwargs)
    return info.value.status, info.value.error_type, info.value.message


def test_the_wrong_secret_is_an_invalid_signature():
    status, code, message = rejected(*signed(secret="not-the-secret"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")


@pytest.mark.parametrize("part", ["path", "query", "body", "method", "signed header"])
def test_anything_changed_after_signing_is_an_invalid_signature(part):
    method, path, headers, body = signed(
        "POST", "/2015-03-31/functions/orders/invocations?Qualifier=1", b'{"a": 1}'
    )
    if part == "path":
        path = path.replace("orders", "billing")
    elif part == "query":
        path = path.replace("Qualifier=1", "Qualifier=2")
    elif part == "body":
        body = b'{"a": 2}'
    elif part == "method":
        method = "PUT"
    else:
        headers["host"] = "evil.example:1"  # a signed header, always a different value
    code = rejected(method, path, headers, body)[1]
    assert code == "InvalidSignatureException"


def test_a_body_not_matching_its_signed_hash_is_refused():
    method, path, headers, body = signed(
        "POST", "/x", b"abc", headers={"X-Amz-Content-Sha256": "0" * 64}
    )
    assert rejected(method, path, headers, body)[2] == (
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    )


def test_an_unsigned_request_is_missing_its_token():
    assert rejected("GET", "/", {"host": "x"}, b"") == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer abc", "IncompleteSignatureException"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/lambda/aws4_request",
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/lambda, SignedHeaders=host;x-amz-date, Signature="
            + "0" * 64,
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=../../etc/passwd/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature="
            + "0" * 64,
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA<script>EXAMPLE1/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature="
            + "0" * 64,
            "UnrecognizedClientException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature="
            + "0" * 64,
            "InvalidSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=zz",
            "InvalidSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, Signature="
            + "0" * 64,
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host;x-absent, Signature="
            + "0" * 64,
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2026-12-04/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature="
            + "0" * 64,
            "IncompleteSignatureException",
        ),
        ("AWS4-HMAC-SHA256 " + "A" * 20000, "IncompleteSignatureException"),
    ],
)
def test_malformed_authorization_headers_get_clear_refusals(authorization, code):
    headers = {
        "host": "x",
        "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "authorization": authorization,
    }
    headers["authorization"] = authorization.replace("20261204", headers["x-amz-date"][:8])
    with pytest.raises(SignatureRejected) as info:
        parse(headers=headers)
    assert info.value.error_type == code
    assert info.value.status == (400 if code == "IncompleteSignatureException" else 403)


def test_a_signature_older_than_15_minutes_has_expired():
    method, path, headers, body = signed()
    now = time.time() + 15 * 60 + 5
    status, code, message = rejected(method, path, headers, body, now=now)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {headers['x-amz-date']} is now earlier than ")
    assert message.endswith(" - 15 min.)")
    check(method, path, headers, body, now=time.time() + 14 * 60)


def test_a_signature_from_the_future_is_not_yet_current():
    method, path, headers, body = signed()
    message = rejected(method, path, headers, body, now=time.time() - 16 * 60)[2]
    assert message.startswith("Signature not yet current: ")


def test_the_date_must_match_the_credential_scope():
    method, path, headers, body = signed()
    day = headers["x-amz-date"][:8]
    headers["authorization"] = headers["authorization"].replace(f"/{day}/", "/20000101/")
    assert rejected(method, path, headers, body)[2] == "Credential date does not match X-Amz-Date"


@pytest.mark.parametrize(
    ("method", "path", "body", "token"),
    [
        ("GET", "/2015-03-31/functions/", b"", None),
        ("POST", "/2015-03-31/functions/shop-dev/invocations?Qualifier=7", b'{"a": 1}', "tok"),
        ("GET", "/2015-03-31/functions/?MaxItems=5&Marker=a%2Fb", b"", None),
        ("GET", "/path%20with%20spaces/%C3%A9t%C3%A9", b"", None),
    ],
)
def test_strums_own_signer_signs_what_botocore_signs(method, path, body, token):
    import calendar

    from strum.runtime.sigv4 import sign

    request = AWSRequest(method=method, url=ENDPOINT + path, data=body)
    SigV4Auth(Credentials(KEY_ID, SECRET, token), "lambda", "us-east-1").add_auth(request)
    theirs = request.headers["Authorization"]
    # Signed at the second botocore signed at, the signature must be the same.
    signed_at = calendar.timegm(time.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    ours = sign(
        method=method,
        host="127.0.0.1:8700",
        raw_path=path,
        body=body,
        access_key=KEY_ID,
        secret=SECRET,
        region="us-east-1",
        session_token=token,
        now=signed_at,
    )
    assert ours["authorization"] == theirs
    check(method, path, ours, body)
