"""What each page shows, as plain data from the platform's parts (no HTTP here)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from strum.platform.errors import ResourceNotFound
from strum.platform.state import LATEST, Store, url_key
from strum.redact import redact_mapping

__all__ = ["function_detail", "function_rows", "log_row", "schedule_row"]

_REPORT = re.compile(
    r"Duration: (?P<duration>[\d.]+) ms\tBilled Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: \d+ MB\tMax Memory Used: (?P<max_memory>\d+) MB"
    r"(?:\tInit Duration: (?P<init>[\d.]+) ms)?"
)


def _url(store: Store, url_for: Any, name: str, qualifier: str | None) -> str | None:
    key = url_key(name, qualifier)
    return url_for(key) if store.get_url_config(key) is not None else None


def function_rows(store: Store, url_for: Any) -> list[dict[str, Any]]:
    """The functions page: one row per function."""
    rows = []
    for record in store.list_functions():
        config = record.config
        aliases = store.list_aliases(record.name)
        urls = [
            url
            for config_row in store.list_url_configs(record.name)
            if (url := url_for(config_row["key"]))
        ]
        rows.append(
            {
                "name": record.name,
                "runtime": config.get("Runtime") or "-",
                "aliases": [
                    {"name": a.name, "version": a.function_version, "weights": a.weights}
                    for a in aliases
                ],
                "urls": urls,
                "memory": config.get("MemorySize"),
                "timeout": config.get("Timeout"),
                "last_modified": record.last_modified,
            }
        )
    return rows


def function_detail(store: Store, url_for: Any, rules: list[Any], name: str) -> dict[str, Any]:
    """The function page; ``ResourceNotFound`` when there is no such function."""
    record = store.function(name, LATEST)
    config = record.config
    environment = (config.get("Environment") or {}).get("Variables") or {}
    shown = (
        "Runtime",
        "Handler",
        "MemorySize",
        "Timeout",
        "Description",
        "Architectures",
        "EphemeralStorage",
        "FileSystemConfigs",
        "StrumPermissions",
    )
    configuration = [
        (key, value if isinstance(value, (str, int)) else json.dumps(value))
        for key in shown
        if (value := config.get(key)) not in (None, "", [], {})
    ]
    configuration.append(("ReservedConcurrentExecutions", store.concurrency(name) or "-"))
    return {
        "name": record.name,
        "configuration": configuration,
        "environment": redact_mapping(environment),
        "aliases": [
            {
                "name": alias.name,
                "version": alias.function_version,
                "weights": alias.weights,
                "url": _url(store, url_for, name, alias.name),
            }
            for alias in store.list_aliases(name)
        ],
        "versions": [
            {
                "version": version.version,
                "sha": version.code_sha[:16],
                "size": version.code_size,
                "description": version.config.get("Description") or "",
                "last_modified": version.last_modified,
            }
            for version in store.list_versions(name)
        ],
        "schedules": [schedule_row(rule) for rule in rules],
    }


def schedule_row(rule: Any) -> dict[str, Any]:
    fire = rule.next_fire(datetime.now(timezone.utc))
    return {
        "name": rule.name,
        "function_name": rule.function_name,
        "qualifier": rule.qualifier,
        "expression": rule.expression,
        "enabled": rule.enabled,
        "next": fire.strftime("%Y-%m-%d %H:%M:%S UTC") if fire else None,
    }


def log_row(entry: dict[str, Any]) -> dict[str, Any]:
    """A log entry as a row: START/END/REPORT lines get their kind and REPORT its numbers."""
    message = str(entry["message"])
    kind = next(
        (k.lower() for k in ("START", "END", "REPORT") if message.startswith(k + " RequestId:")),
        "line",
    )
    row = {
        "time": entry["time"],
        "version": entry["version"],
        "request_id": entry["request_id"],
        "message": message,
        "kind": kind,
        "duration": None,
        "billed": None,
        "max_memory": None,
        "init": None,
    }
    if kind == "report":
        match = _REPORT.search(message)
        if match:
            row["duration"] = f"{match['duration']} ms"
            row["billed"] = f"{match['billed']} ms"
            row["max_memory"] = f"{match['max_memory']} MB"
            row["init"] = f"{match['init']} ms" if match["init"] else None
    return row


def exists(store: Store, name: str) -> bool:
    try:
        store.function(name, LATEST)
    except ResourceNotFound:
        return False
    return True
