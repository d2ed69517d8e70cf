"""Session credentials: issued, checked, refused when forged, altered, foreign or expired."""

from __future__ import annotations

import secrets

import pytest

from strum.platform.identity import SessionError, SessionIssuer

KEY = secrets.token_bytes(32)


def issued(**kwargs):
    issuer = SessionIssuer(KEY)
    values = {"account": "111122223333", "function": "orders", "version": "7"} | kwargs
    return issuer, issuer.issue(**values)


def test_a_session_names_its_function_version_and_account():
    issuer, credentials = issued()
    session = issuer.check(credentials.access_key_id, credentials.session_token)
    assert (session.account, session.function, session.version) == ("111122223333", "orders", "7")
    assert session.role_arn == "arn:aws:sts::111122223333:assumed-role/orders-role/orders"
    assert credentials.access_key_id.startswith("ASIA") and len(credentials.access_key_id) == 20
    assert len(credentials.secret_access_key) == 40
    assert issuer.secret_for(credentials.session_token) == credentials.secret_access_key


def test_a_restarted_platform_with_the_same_key_accepts_the_session():
    _, credentials = issued()
    again = SessionIssuer(KEY)
    assert again.check(credentials.access_key_id, credentials.session_token).function == "orders"
    assert again.secret_for(credentials.session_token) == credentials.secret_access_key


def test_each_issue_is_a_different_key():
    issuer, first = issued()
    second = issuer.issue(account="111122223333", function="orders", version="7")
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key != second.secret_access_key


def refusal(issuer, key_id, token, **kwargs) -> str:
    with pytest.raises(SessionError) as info:
        issuer.check(key_id, token, **kwargs)
    return info.value.error_type


def test_a_token_sealed_with_another_key_is_unrecognised():
    _, credentials = issued()
    stranger = SessionIssuer(secrets.token_bytes(32))
    assert refusal(stranger, credentials.access_key_id, credentials.session_token) == (
        "UnrecognizedClientException"
    )


def test_an_altered_token_is_unrecognised():
    import base64
    import json

    issuer, credentials = issued()
    version, body, mac = credentials.session_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["f"] = "billing"  # claim to be another function, keep the old seal
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refusal(issuer, credentials.access_key_id, f"{version}.{forged}.{mac}") == (
        "UnrecognizedClientException"
    )


def test_a_token_used_with_another_key_id_is_unrecognised():
    issuer, credentials = issued()
    _, other = issued()
    assert refusal(issuer, other.access_key_id, credentials.session_token) == (
        "UnrecognizedClientException"
    )


@pytest.mark.parametrize(
    "token", ["", "x", "s1.a.b", "s1.!!.??", "s2.e30.AAAA", "s1." + "a" * 3000 + ".b"]
)
def test_garbage_tokens_are_unrecognised(token):
    issuer, credentials = issued()
    assert refusal(issuer, credentials.access_key_id, token) == "UnrecognizedClientException"


def test_an_expired_token_is_expired():
    issuer, credentials = issued(ttl_s=60)
    assert refusal(
        issuer, credentials.access_key_id, credentials.session_token, now=credentials.expires_at
    ) == ("ExpiredTokenException")
    issuer.check(
        credentials.access_key_id, credentials.session_token, now=credentials.expires_at - 1
    )


def test_the_secret_stays_out_of_the_repr():
    _, credentials = issued()
    assert credentials.secret_access_key not in repr(credentials)
    assert credentials.session_token not in repr(credentials)


def test_a_short_key_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SessionIssuer(b"short")
