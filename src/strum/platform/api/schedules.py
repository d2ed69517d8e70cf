"""The schedule routes: ``PUT`` / ``GET /strum/v1/schedules/{function}``, a function's
EventBridge-style rules as ``strum deploy`` sends them and ``strum status`` shows them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from strum.platform.api._http import error_response
from strum.platform.errors import InvalidParameterValue, InvalidRequestContent, PlatformError
from strum.platform.invoke import Rule, Scheduler, iso_time
from strum.platform.state import Store

__all__ = ["add_routes"]


def add_routes(app: web.Application, store: Store, scheduler: Scheduler) -> None:
    """``PUT`` / ``GET /strum/v1/schedules/{function}``: a function's rules."""

    async def put(request: web.Request) -> web.Response:
        name = request.match_info["function"]
        try:
            store.function(name)
            qualifier, rules = _rules_from(await request.read())
            stored = scheduler.replace(name, qualifier, rules)
        except PlatformError as error:
            return error_response(error)
        except ValueError as exc:
            return error_response(InvalidParameterValue(str(exc)))
        now = scheduler.now()
        return web.json_response({"rules": [_rule_document(rule, now) for rule in stored]})

    async def get(request: web.Request) -> web.Response:
        name = request.match_info["function"]
        rules, now = scheduler.rules(name), scheduler.now()
        return web.json_response({"rules": [_rule_document(rule, now) for rule in rules]})

    app.router.add_put("/strum/v1/schedules/{function}", put)
    app.router.add_get("/strum/v1/schedules/{function}", get)


def _rules_from(raw: bytes) -> tuple[str | None, list[tuple[str, str, bool]]]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidRequestContent("Could not parse request body into json") from None
    qualifier = body.get("qualifier") if isinstance(body, dict) else None
    entries = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not (qualifier is None or isinstance(qualifier, str)):
        raise InvalidParameterValue(
            'send {"qualifier": ALIAS, "rules": [{"name", "expression", "enabled"}, ...]}'
        )
    rules: list[tuple[str, str, bool]] = []
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and entry["name"]
            and isinstance(entry.get("expression"), str)
            and isinstance(entry.get("enabled", True), bool)
        ):
            raise InvalidParameterValue(
                f"a rule is {{'name': str, 'expression': str, 'enabled': bool}}, not {entry!r}"
            )
        rules.append((entry["name"], entry["expression"], entry.get("enabled", True)))
    if len({name for name, _, _ in rules}) != len(rules):
        raise InvalidParameterValue("rule names must be unique")
    return qualifier, rules


def _rule_document(rule: Rule, now: datetime) -> dict[str, Any]:
    fire = rule.next_fire(now)
    return {
        "name": rule.name,
        "qualifier": rule.qualifier,
        "expression": rule.expression,
        "enabled": rule.enabled,
        "last_fired": iso_time(rule.last_fired),
        "next": fire.strftime("%Y-%m-%dT%H:%M:%SZ") if fire else None,
    }
