"""The port each function URL was last bound to, kept after its URL config is deleted.

A stage's plain URL (``http://127.0.0.1:<port>/``) is its listener's port. The URL config
keeps that port while it exists (``Store.set_url_port``), so the URL survives restarts; this
table keeps it beyond the config, so undeploying a stage and deploying it again gives it
the same URL back (while no other listener took the port meanwhile).
"""

from __future__ import annotations

from strum.platform.state.store import Store

__all__ = ["remember_port", "remembered_port"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS url_ports (key TEXT PRIMARY KEY, port INTEGER NOT NULL)"


def remember_port(store: Store, key: str, port: int) -> None:
    """Record that the URL under ``key`` (``Store.url_key``) listens on ``port``."""
    with store.transaction() as db:
        db.execute(_SCHEMA)
        # A port belongs to one URL: a new owner takes it over.
        db.execute("DELETE FROM url_ports WHERE port = ? AND key != ?", (port, key))
        db.execute("INSERT OR REPLACE INTO url_ports (key, port) VALUES (?, ?)", (key, port))


def remembered_port(store: Store, key: str) -> int | None:
    """The port the URL under ``key`` last listened on, or None."""
    with store.transaction() as db:
        db.execute(_SCHEMA)
        row = db.execute("SELECT port FROM url_ports WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else None
