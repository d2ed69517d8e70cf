"""Authentication and authorisation of botocore-signed requests: keys, sessions, denials."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strum.platform.errors import AccessDenied, SignatureRejected
from strum.platform.identity import Authority, KeyRing, Policy, SessionIssuer

ACCOUNT = "111122223333"
ORDERS = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
BILLING = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:billing"
INVOKE_ORDERS = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": ORDERS + "*"}
        ]
    }
)


@pytest.fixture
def setup(tmp_path):
    keys = KeyRing(tmp_path / "keys.json")
    sessions = SessionIssuer(secrets.token_bytes(32))
    policies = {"orders": Policy.parse(INVOKE_ORDERS)}
    authority = Authority(
        keys=keys,
        sessions=sessions,
        function_policy=lambda s: policies.get(s.function),
        account=ACCOUNT,
    )
    return authority, keys, sessions, policies


def signed(
    key_id, secret, token=None, *, path="/2015-03-31/functions/", body=b"", region="eu-west-1"
):
    request = AWSRequest(method="POST", url="http://127.0.0.1:8700" + path, data=body)
    SigV4Auth(Credentials(key_id, secret, token), "lambda", region).add_auth(request)
    prepared = request.prepare()
    split = urlsplit(prepared.url)
    headers = {
        k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()
    }
    headers.setdefault("host", split.netloc)
    return {"method": "POST", "raw_path": split.path, "headers": headers, "body": body}


def test_the_owner_key_authenticates_as_the_accounts_root(setup):
    authority, keys, *_ = setup
    owner = keys.ensure_owner()
    caller = authority.authenticate(**signed(owner.access_key_id, owner.secret))
    assert (caller.arn, caller.account, caller.region) == (
        f"arn:aws:iam::{ACCOUNT}:root",
        ACCOUNT,
        "eu-west-1",
    )
    authority.authorize(caller, "lambda:DeleteFunction", BILLING)


def test_a_named_key_may_do_what_its_policy_allows_and_nothing_else(setup):
    authority, keys, *_ = setup
    key = keys.create("ci", INVOKE_ORDERS)
    caller = authority.authenticate(**signed(key.access_key_id, key.secret))
    assert caller.arn == f"arn:aws:iam::{ACCOUNT}:user/ci"
    authority.authorize(caller, "lambda:InvokeFunction", ORDERS + ":prod")
    with pytest.raises(AccessDenied) as info:
        authority.authorize(caller, "lambda:UpdateFunctionCode", ORDERS)
    assert info.value.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: lambda:UpdateFunctionCode "
        f"on resource: {ORDERS} because no identity-based policy allows the lambda:UpdateFunctionCode action"
    )


def test_a_resource_policy_can_allow_what_the_callers_policy_does_not(setup):
    authority, keys, *_ = setup
    key = keys.create("ci", INVOKE_ORDERS)
    caller = authority.authenticate(**signed(key.access_key_id, key.secret))
    grant = Policy.parse(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ci"},
                    "Action": "lambda:InvokeFunction",
                    "Resource": BILLING,
                }
            ]
        },
        resource_based=True,
    )
    authority.authorize(caller, "lambda:InvokeFunction", BILLING, resource_policies=[grant])
    with pytest.raises(AccessDenied):
        authority.authorize(caller, "lambda:InvokeFunction", BILLING)


def test_a_function_session_is_the_function_with_its_execution_policy(setup):
    authority, _, sessions, _ = setup
    credentials = sessions.issue(account=ACCOUNT, function="orders", version="3")
    caller = authority.authenticate(
        **signed(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        )
    )
    assert caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-role/orders"
    assert caller.session is not None and caller.session.version == "3"
    authority.authorize(caller, "lambda:InvokeFunction", ORDERS)
    # The attack of the identity issue: a function reading another function's configuration.
    with pytest.raises(AccessDenied):
        authority.authorize(caller, "lambda:GetFunctionConfiguration", BILLING)
    with pytest.raises(AccessDenied):
        authority.authorize(caller, "lambda:UpdateFunctionCode", BILLING)
    with pytest.raises(AccessDenied):
        authority.authorize(caller, "lambda:ListFunctions", "*")


def refused(authority, request, **kwargs):
    with pytest.raises(SignatureRejected) as info:
        authority.authenticate(**request, **kwargs)
    return info.value.error_type


def test_strangers_are_refused(setup):
    authority, keys, sessions, policies = setup
    keys.ensure_owner()
    # Made-up keys, signed correctly with themselves.
    assert (
        refused(authority, signed("AKIAMADEUPMADEUP1234", "made-up-secret"))
        == "UnrecognizedClientException"
    )
    # A real key id with the wrong secret.
    key = keys.create("ci", INVOKE_ORDERS)
    assert refused(authority, signed(key.access_key_id, "wrong")) == "InvalidSignatureException"
    # A revoked key, on its very next request.
    request = signed(key.access_key_id, key.secret)
    authority.authenticate(**request)
    keys.revoke("ci")
    assert refused(authority, request) == "UnrecognizedClientException"
    # A session sealed by another platform, and an expired one.
    foreign = SessionIssuer(secrets.token_bytes(32)).issue(
        account=ACCOUNT, function="orders", version="1"
    )
    assert refused(
        authority, signed(foreign.access_key_id, foreign.secret_access_key, foreign.session_token)
    ) == ("UnrecognizedClientException")
    old = sessions.issue(account=ACCOUNT, function="orders", version="1", ttl_s=1)
    request = signed(old.access_key_id, old.secret_access_key, old.session_token)
    assert refused(authority, request, now=time.time() + 2) == "ExpiredTokenException"
    # The session of a function that was deleted.
    live = sessions.issue(account=ACCOUNT, function="orders", version="1")
    del policies["orders"]
    assert refused(
        authority, signed(live.access_key_id, live.secret_access_key, live.session_token)
    ) == ("UnrecognizedClientException")


def test_a_session_key_id_with_a_stolen_token_of_another_session_is_refused(setup):
    authority, _, sessions, policies = setup
    policies["billing"] = policies["orders"]
    mine = sessions.issue(account=ACCOUNT, function="orders", version="1")
    theirs = sessions.issue(account=ACCOUNT, function="billing", version="1")
    assert refused(
        authority, signed(mine.access_key_id, mine.secret_access_key, theirs.session_token)
    ) == ("UnrecognizedClientException")
    # Its own key id with the other token, signed with its own secret: the secret is wrong.
    assert refused(
        authority, signed(theirs.access_key_id, mine.secret_access_key, theirs.session_token)
    ) == ("InvalidSignatureException")
