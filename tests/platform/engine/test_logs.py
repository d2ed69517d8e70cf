"""The log store read from another thread while the event loop writes it.

The platform's tests (and any embedding program) read ``Logs.query`` from their own
thread while the loop appends and its timer commits batches. Nothing appended may be
lost or hidden from a query that starts after the append.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from strum.platform.engine import logs as logs_module
from strum.platform.engine.logs import LogStore


def test_a_query_from_another_thread_sees_every_line_the_loop_appended(
    tmp_path: Path, monkeypatch
) -> None:
    # A flush timer that fires as soon as it can makes the loop's commits race the
    # reader's; 300 rounds of append-then-read must each see their own line.
    monkeypatch.setattr(logs_module, "FLUSH_DELAY_S", 0.0)
    store = LogStore(tmp_path / "logs.db")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    missing: list[int] = []
    try:
        for n in range(300):
            appended = threading.Event()

            def write(n: int = n, appended: threading.Event = appended) -> None:
                for k in range(5):
                    store.append("fn", "$LATEST", "", "stderr", f"line {n}.{k}")
                appended.set()

            loop.call_soon_threadsafe(write)
            assert appended.wait(10)
            seen = {e["message"] for e in store.query("fn", limit=100_000)}
            missing += [n for k in range(5) if f"line {n}.{k}" not in seen]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        store.close()
    assert missing == []
