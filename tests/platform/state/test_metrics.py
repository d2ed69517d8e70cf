"""Per-minute invocation metrics: percentiles from a fixed histogram, a bounded table."""

from __future__ import annotations

from pathlib import Path

from strum.platform.home import Home
from strum.platform.state import InvocationMetrics, Store
from strum.platform.state.metrics import KEEP_MINUTES, Minute


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_percentiles_come_from_the_histogram_within_a_bucket() -> None:
    minute = Minute()
    for duration in range(1, 101):  # 1 .. 100 ms
        minute.add(float(duration), None, error=False)
    p50, p99 = minute.percentile(0.5), minute.percentile(0.99)
    assert p50 is not None and 50 <= p50 < 50 * 1.34
    assert p99 is not None and 99 <= p99 < 99 * 1.34
    assert Minute().percentile(0.5) is None
    assert Minute.from_json(minute.to_json()) == minute


def test_minutes_are_written_when_over_and_the_table_stays_bounded(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(Home(tmp_path).ensure())
    metrics = InvocationMetrics(store, clock=clock)
    for _ in range(KEEP_MINUTES + 30):
        metrics.completed("fn", 12.0, 80.0, error=False)
        metrics.throttled("fn")
        clock.now += 60
    metrics.completed("fn", 5.0, None, error=True)
    (count,) = store.rows("SELECT count(*) FROM invocation_minutes")[0]
    assert count <= KEEP_MINUTES
    series = metrics.series("fn", 15)
    assert series["invocations"] == [1] * 15
    assert series["throttles"] == [1] * 14 + [0]
    assert series["errors"] == [0] * 14 + [1]
    assert series["init_ms"][0] == 80.0 and series["init_ms"][-1] is None
    assert [t - series["time"][0] for t in series["time"]] == [60 * i for i in range(15)]
    # What was written survives a restart (the minute in progress is flushed at stop).
    metrics.flush()
    again = InvocationMetrics(store, clock=clock)
    assert again.series("fn", 15)["invocations"] == [1] * 15
    store.close()
