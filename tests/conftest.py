"""Shared fixtures: recorded events under tests/events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A recorded event by file stem, e.g. ``load_event("rest-v1-get")``."""
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def event():
    return load_event
