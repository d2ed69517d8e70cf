"""The logs of an AWS stage: CloudWatch Logs' ``/aws/lambda/<function>``, as ``strum tail``
prints them (the same entries as the local platform's: ``time`` in epoch seconds and
``message``).

CloudWatch delivers events some seconds after they happen and not always in order, so a
follower does not move its start past what it has seen: it looks back a short window each
poll and drops events it already returned (by event id).
"""

from __future__ import annotations

from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.deploy.errors import DeployError

# How far back each poll of a follower looks again for events CloudWatch delivered late.
LATE_WINDOW = 120.0


def filter_pattern(text: str) -> str:
    """The CloudWatch Logs filter pattern matching events that contain ``text``: one quoted
    term (quotes let it hold spaces and punctuation; a quote inside is escaped), which
    CloudWatch matches case-sensitively ("Filter pattern syntax for metric filters,
    subscription filters, and filter log events")."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_entries(
    client: AwsClient, function: str, since: float, text: str | None = None
) -> list[dict[str, Any]]:
    """The log events of ``function`` since ``since`` (epoch seconds), oldest first; with
    ``text``, those containing it (filtered by CloudWatch, and checked here again)."""
    group = f"/aws/lambda/{function}"
    pattern = filter_pattern(text) if text is not None else None
    try:
        events = client.filter_log_events(group, int(since * 1000), pattern)
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            raise DeployError(
                f"{function} has no logs yet ({group} does not exist): deploy the stage and "
                "call it, then tail again"
            ) from None
        raise
    entries = [
        {
            "id": str(event.get("eventId") or ""),
            "time": int(event["timestamp"]) / 1000,
            "message": str(event.get("message") or "").rstrip("\n"),
            "stream": str(event.get("logStreamName") or ""),
        }
        for event in events
        if text is None or text in str(event.get("message") or "")
    ]
    return sorted(entries, key=lambda entry: entry["time"])


class LogFollower:
    """Polls a function's logs, returning each event once even when it arrives late."""

    def __init__(
        self, client: AwsClient, function: str, since: float, text: str | None = None
    ) -> None:
        self.client = client
        self.function = function
        self.text = text
        self.start = since
        self._seen: dict[str, float] = {}
        self._idle = 0

    def poll(self, now: float) -> list[dict[str, Any]]:
        """The events not returned before; ``now`` is the caller's clock (epoch seconds)."""
        fresh = []
        for entry in log_entries(self.client, self.function, self.start, self.text):
            key = entry["id"] or f"{entry['stream']} {entry['time']} {entry['message']}"
            if key not in self._seen:
                self._seen[key] = entry["time"]
                fresh.append(entry)
        self.start = max(self.start, now - LATE_WINDOW)
        self._seen = {k: t for k, t in self._seen.items() if t >= self.start}
        return fresh

    def pause(self, entries: list[dict[str, Any]]) -> float:
        """Seconds until the next poll: CloudWatch Logs allows a few FilterLogEvents a second
        per account, so every 2 s while lines come, backing off to 10 s when quiet."""
        self._idle = 0 if entries else self._idle + 1
        return min(2.0 * (1 + self._idle), 10.0)
