"""Issued keys: the owner key, named keys with policies, revocation, the file they live in."""

from __future__ import annotations

import json
import stat

import pytest

from strum.platform.errors import PlatformError
from strum.platform.identity.keys import OWNER, AccessKeyError, KeyRing

ONE_FUNCTION = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": "arn:aws:lambda:*:*:function:orders",
            }
        ]
    }
)


@pytest.fixture
def ring(tmp_path):
    return KeyRing(tmp_path / "identity" / "keys.json")


def test_the_owner_key_is_made_once_and_kept(ring, tmp_path):
    owner = ring.ensure_owner()
    assert (
        owner.is_owner and owner.access_key_id.startswith("AKIA") and len(owner.access_key_id) == 20
    )
    assert len(owner.secret) == 40
    assert ring.ensure_owner() == owner
    again = KeyRing(ring.path)
    assert again.ensure_owner() == owner
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600


def test_a_named_key_carries_its_policy(ring):
    key = ring.create("ci-deployer", ONE_FUNCTION)
    assert ring.lookup(key.access_key_id) == key
    assert ring.policy(key).statements[0].actions == ("lambda:InvokeFunction",)
    assert key.public()["Status"] == "Active"
    assert "secret" not in json.dumps(key.public()).lower() or key.secret not in json.dumps(
        key.public()
    )


def test_revoking_takes_effect_at_once_and_survives_a_restart(ring):
    key = ring.create("ci", ONE_FUNCTION)
    ring.revoke("ci")
    assert ring.lookup(key.access_key_id) is None
    assert KeyRing(ring.path).lookup(key.access_key_id) is None
    assert [k.public()["Status"] for k in KeyRing(ring.path)] == ["Inactive"]
    # The name is free again once its key is revoked.
    assert ring.create("ci", ONE_FUNCTION).access_key_id != key.access_key_id


@pytest.mark.parametrize(
    ("name", "policy", "message"),
    [
        ("a b", ONE_FUNCTION, "'a b' is not a key name"),
        ("x" * 65, ONE_FUNCTION, "is not a key name"),
        ("owner", ONE_FUNCTION, "a key named 'owner' exists already"),
        (
            "ok",
            '{"Statement": [{"Effect": "Alow", "Action": "*", "Resource": "*"}]}',
            "the policy for 'ok' is refused: line 1: Statement[0].Effect: 'Alow'",
        ),
        ("ok", "not json", "the policy for 'ok' is refused: line 1: not valid JSON"),
    ],
)
def test_bad_keys_are_refused_clearly(ring, name, policy, message):
    ring.ensure_owner()
    with pytest.raises(PlatformError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ring.create(name, policy)


def test_the_owner_cannot_be_revoked_and_unknown_keys_are_named(ring):
    ring.ensure_owner()
    with pytest.raises(PlatformError, match="owner key cannot be revoked"):
        ring.revoke(OWNER)
    with pytest.raises(PlatformError, match="no key named or with id 'nope'"):
        ring.revoke("nope")


def test_a_damaged_file_is_an_error_not_a_new_owner(ring):
    ring.ensure_owner()
    ring.path.write_text("{ half a file")
    with pytest.raises(AccessKeyError, match="cannot be read"):
        KeyRing(ring.path)


def test_secrets_stay_out_of_reprs(ring):
    key = ring.create("ci", ONE_FUNCTION)
    assert key.secret not in repr(key)
    assert key.secret not in repr(list(ring))
