"""The audit log: entries kept in order, batched off the request path, bounded in size."""

from __future__ import annotations

import asyncio

from strum.platform.state import AuditEntry, AuditLog
from strum.platform.state import audit as audit_module


def entry(n: int, when: float = 0.0) -> AuditEntry:
    return AuditEntry(
        time=when or 1_700_000_000.0 + n,
        principal="arn:aws:iam::000000000000:root",
        access_key_id="AKIAEXAMPLE",
        action=f"lambda:Action{n}",
        resource="*",
        decision="allowed",
        source="127.0.0.1",
    )


def test_entries_come_back_oldest_first(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    for n in range(5):
        log.record(entry(n))
    assert [e.action for e in log.query(since=0)] == [f"lambda:Action{n}" for n in range(5)]
    assert [e.action for e in log.query(since=0, limit=2)] == ["lambda:Action3", "lambda:Action4"]
    log.close()
    # Kept on disk.
    again = AuditLog(tmp_path / "audit.db")
    assert len(again.query(since=0)) == 5
    again.close()


def test_inside_the_loop_entries_are_batched_and_never_lost(tmp_path):
    log = AuditLog(tmp_path / "audit.db")

    async def scenario():
        for n in range(50):
            log.record(entry(n))
        pending = len(log._pending)
        await asyncio.sleep(audit_module.FLUSH_DELAY_S * 3)
        return pending, len(log._pending)

    before, after = asyncio.run(scenario())
    assert (before, after) == (50, 0)
    assert len(log.query(since=0)) == 50
    log.close()


def test_the_log_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(audit_module, "MAX_ROWS", 30)
    monkeypatch.setattr(audit_module, "_TRIM_EVERY", 10)
    log = AuditLog(tmp_path / "audit.db")
    for n in range(100):
        log.record(entry(n))
    kept = log.query(since=0, limit=1000)
    assert len(kept) <= 40
    assert kept[-1].action == "lambda:Action99"
    log.close()
