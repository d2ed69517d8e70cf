"""Functions' tags (TagResource, UntagResource, ListTags), beside the functions they label.

A table of its own in the store's database, gone with its function (``ON DELETE
CASCADE``). AWS's limits ("Tagging AWS resources": 50 user tags per resource; keys of 1 to
128 characters, values of at most 256; the ``aws:`` prefix reserved for AWS's own tags)
are checked here, so every way of tagging - CreateFunction's ``Tags`` included - agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from strum.platform.errors import InvalidParameterValue, ResourceNotFound
from strum.platform.state.store import Store

__all__ = ["MAX_TAGS", "Tags", "check_tags"]

MAX_TAGS = 50
MAX_KEY, MAX_VALUE = 128, 256

SCHEMA = """
CREATE TABLE IF NOT EXISTS tags (
    name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
"""


def check_tags(tags: object) -> dict[str, str]:
    """``tags`` as a map of strings within AWS's limits; ``InvalidParameterValue`` if not."""
    if not isinstance(tags, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in tags.items()
    ):
        raise InvalidParameterValue("Tags must map tag keys to string values")
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                f"Tag key {key!r} is refused: the aws: prefix is reserved for AWS's own tags"
            )
        if not 1 <= len(key) <= MAX_KEY or len(value) > MAX_VALUE:
            raise InvalidParameterValue(
                f"Tag keys are 1 to {MAX_KEY} characters and values at most {MAX_VALUE}: "
                f"{key[:40]!r}"
            )
    return dict(tags)


class Tags:
    """The tags of every function, in the store's database."""

    def __init__(self, store: Store) -> None:
        self._store = store
        with store.transaction() as db:
            db.execute(SCHEMA)

    def of(self, name: str) -> dict[str, str]:
        """The tags of function ``name`` ({} when it has none)."""
        rows = self._store.rows("SELECT key, value FROM tags WHERE name = ? ORDER BY key", name)
        return {row[0]: row[1] for row in rows}

    def tag(self, name: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags; refuses (and changes nothing) past ``MAX_TAGS`` in all."""
        tags = check_tags(tags)
        with self._store.transaction() as db:
            self._exists(name)
            present = {row[0] for row in db.execute("SELECT key FROM tags WHERE name = ?", (name,))}
            if len(present | set(tags)) > MAX_TAGS:
                raise InvalidParameterValue(
                    f"Number of tags exceeds resource tag limit: a function carries at most "
                    f"{MAX_TAGS} tags ({len(present)} present, {len(set(tags) - present)} new)"
                )
            db.executemany(
                "INSERT INTO tags (name, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
                [(name, key, value) for key, value in tags.items()],
            )

    def untag(self, name: str, keys: Iterable[str]) -> None:
        """Remove the tags named (a key the function lacks is no error, as on AWS)."""
        with self._store.transaction() as db:
            self._exists(name)
            db.executemany(
                "DELETE FROM tags WHERE name = ? AND key = ?", [(name, key) for key in keys]
            )

    def _exists(self, name: str) -> None:
        if not self._store.rows("SELECT 1 FROM functions WHERE name = ?", name):
            raise ResourceNotFound(f"Function not found: {self._store.arn(name)}")
