"""Checks of ``[durable]``: a stage's functions as AWS Lambda durable functions.

``execution_timeout`` is how long one durable execution may run in all (Lambda's
``DurableConfig.ExecutionTimeout``: 1 second to 366 days), in seconds or as a duration
("90s", "15m", "12h", "7d"); ``retention_days`` how long a finished execution's history is
kept (1-90 days, default 14). A stage merges the table key by key.
"""

from __future__ import annotations

import re

from strum.config._model import Durable
from strum.config._problems import Invalid, Where, describe, unknown_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["build_durable", "durable"]

MAX_EXECUTION_TIMEOUT = 31_622_400  # 366 days, DurableConfig's ExecutionTimeout maximum
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EXAMPLE = 'durable = { execution_timeout = "7d", retention_days = 14 }'


def _seconds(value: Any) -> int:
    if isinstance(value, bool):
        raise Invalid(f'must be seconds or a duration like "7d", not {describe(value)}')
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)):
        seconds = int(match[1]) * _UNITS[match[2]]
    else:
        raise Invalid(
            f'must be seconds or a duration ("90s", "15m", "12h", "7d"), not {describe(value)}'
        )
    if not 1 <= seconds <= MAX_EXECUTION_TIMEOUT:
        raise Invalid(f"{seconds} s is out of range: Lambda allows 1 s to 366 days")
    return seconds


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be a whole number of days from 1 to 90, not {describe(value)}")
    if not 1 <= value <= 90:
        raise Invalid(f"{value} days is out of range: Lambda keeps histories 1 to 90 days")
    return value


def durable(value: Any, where: Where) -> dict[str, Any]:
    """``[durable]``: ``execution_timeout`` and ``retention_days`` (both optional)."""
    if not isinstance(value, dict):
        raise Invalid(f"must be a table, e.g. {_EXAMPLE}")
    checked: dict[str, Any] = {}
    for key, item in value.items():
        check = {"execution_timeout": _seconds, "retention_days": _days}.get(key)
        if check is None:
            where.at(key).report(unknown_key(key, ["execution_timeout", "retention_days"]))
            continue
        try:
            checked[key] = check(item)
        except Invalid as exc:
            where.at(key).report(str(exc))
    return checked


def build_durable(table: dict[str, Any] | None) -> Durable | None:
    """The merged ``durable`` table as a ``Durable`` (None: the stage is not durable)."""
    if table is None:
        return None
    return Durable(
        execution_timeout=table.get("execution_timeout", 86_400),
        retention_days=table.get("retention_days", 14),
    )
