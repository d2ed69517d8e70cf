"""The access keys a platform issues: the owner key and named keys, each with a policy.

Keys live in one JSON file in ``$STRUM_HOME`` (mode 0600, written atomically: a temporary
file, fsync, rename), because they are few and change rarely, and the platform process is
their only writer - requests to create or revoke a key go through its API, so a change is
in effect from the next request. A file that cannot be read is an error that names it;
the platform never silently makes a new owner key over a damaged one.

Formats follow AWS: key ids are ``AKIA`` and 16 characters of ``[A-Z2-7]``, secrets 40
characters; key names follow IAM user names (1-64 of ``[A-Za-z0-9+=,.@_-]``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from strum.errors import StrumError
from strum.platform.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from strum.platform.home import write_atomically

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.platform.identity.policy import Policy

__all__ = ["OWNER", "AccessKey", "AccessKeyError", "KeyRing", "owner_key"]

OWNER = "owner"
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
# The owner may do everything; named keys get the policy they are issued with.
OWNER_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


class AccessKeyError(StrumError):
    """The keys file cannot be read; the message names it and what to do."""


@dataclass(frozen=True)
class AccessKey:
    """One issued key. ``secret`` never appears in a repr or a listing."""

    access_key_id: str
    name: str
    secret: str
    policy: str
    created_at: float
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_owner(self) -> bool:
        return self.name == OWNER

    def parsed_policy(self) -> Policy:
        from strum.platform.identity.policy import Policy

        return Policy.parse(self.policy)

    def public(self) -> dict[str, object]:
        """What a listing shows: everything but the secret."""
        return {
            "AccessKeyId": self.access_key_id,
            "Name": self.name,
            "Status": "Active" if self.active else "Inactive",
            "CreateDate": self.created_at,
            "Policy": json.loads(self.policy),
        }

    def __repr__(self) -> str:
        return f"AccessKey({self.access_key_id!r}, name={self.name!r}, active={self.active})"


def owner_key(path: Path) -> AccessKey | None:
    """The owner key in a keys file, read only (None before the platform first started)."""
    if not path.exists():
        return None
    return KeyRing(path).by_name(OWNER)


class KeyRing:
    """The issued keys of one platform home, kept in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, AccessKey] = {}
        self._policies: dict[str, Policy] = {}
        self._load()

    def ensure_owner(self) -> AccessKey:
        """The owner key, created on first use."""
        owner = self.by_name(OWNER)
        if owner is not None:
            return owner
        return self._add(OWNER, OWNER_POLICY)

    def create(self, name: str, policy: str) -> AccessKey:
        """Issue a named key with a policy document (checked as IAM checks it)."""
        if not _NAME.match(name):
            raise InvalidParameterValue(
                f"{name!r} is not a key name: use 1-64 letters, digits and +=,.@_- characters"
            )
        if name == OWNER or self.by_name(name) is not None:
            raise ResourceConflict(
                f"a key named {name!r} exists already; revoke it or pick another name"
            )
        from strum.platform.identity.policy import Policy, PolicyError

        try:
            Policy.parse(policy)
        except PolicyError as exc:
            raise InvalidParameterValue(f"the policy for {name!r} is refused: {exc}") from None
        return self._add(name, policy)

    def revoke(self, name_or_id: str) -> AccessKey:
        """Revoke a key by name or id; requests signed with it fail from now on."""
        key = self._keys.get(name_or_id) or self.by_name(name_or_id)
        if key is None:
            raise ResourceNotFound(
                f"no key named or with id {name_or_id!r}; `strum platform keys list` shows them"
            )
        if key.is_owner:
            raise InvalidParameterValue(
                "the owner key cannot be revoked (it administers the platform)"
            )
        if not key.active:
            return key
        revoked = replace(key, revoked_at=time.time())
        self._keys[key.access_key_id] = revoked
        self._policies.pop(key.access_key_id, None)
        self._save()
        return revoked

    def lookup(self, access_key_id: str) -> AccessKey | None:
        """The active key with this id, or None (unknown and revoked keys alike)."""
        key = self._keys.get(access_key_id)
        return key if key is not None and key.active else None

    def policy(self, key: AccessKey) -> Policy:
        """The key's parsed policy (parsed once)."""
        parsed = self._policies.get(key.access_key_id)
        if parsed is None:
            parsed = self._policies[key.access_key_id] = key.parsed_policy()
        return parsed

    def by_name(self, name: str) -> AccessKey | None:
        return next((k for k in self._keys.values() if k.name == name and k.active), None)

    def __iter__(self) -> Iterator[AccessKey]:
        return iter(sorted(self._keys.values(), key=lambda k: k.created_at))

    def _add(self, name: str, policy: str) -> AccessKey:
        key = AccessKey(
            access_key_id="AKIA" + base64.b32encode(os.urandom(10)).decode(),
            name=name,
            secret=base64.b64encode(os.urandom(30)).decode(),
            policy=policy,
            created_at=time.time(),
        )
        self._keys[key.access_key_id] = key
        self._save()
        return key

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        try:
            records = json.loads(text)["keys"]
            keys = [AccessKey(**record) for record in records]
        except (ValueError, KeyError, TypeError) as exc:
            raise AccessKeyError(
                f"{self.path} cannot be read ({exc.__class__.__name__}); restore it from a "
                "backup, or move it away to start over with a new owner key"
            ) from None
        self._keys = {key.access_key_id: key for key in keys}

    def _save(self) -> None:
        data = json.dumps({"keys": [asdict(key) for key in self]}, indent=2).encode()
        write_atomically(self.path, data)
