"""Checking a version before its alias moves, the same way on both targets.

``verify_version`` invokes the version just published - never the alias - first with the
runtime's ping (``{"strum": "ping"}``: the router answers it once init succeeded, without
running user code), then, when the config sets ``check = "/healthz"``, with the Function
URL event a browser's ``GET /healthz`` would become (built as ``strum invoke --path`` and
the platform's URL listener build it). An init error becomes ``StartupFailed`` in the user's
terms (``strum.deploy.startup.explain``); a check answered with 500 or more, or a function
error, becomes ``CheckFailed`` with the status and an excerpt of the body. Either way the
deploy stops with the alias where it was.

The invoke itself is the target's (``Probe``): this module does no I/O of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strum.deploy.errors import DeployError
from strum.deploy.startup import StartupFailed, explain

__all__ = ["PING", "CheckFailed", "Probe", "url_event", "verify_version"]

# What the runtime's router answers once init succeeded, without running user code.
PING = b'{"strum": "ping"}'
# The account a URL event names when the caller has none (the platform's, for now); the
# URL id is derived from it as the platform derives its own.
_ACCOUNT = "000000000000"
_EXCERPT = 300  # characters of a failing check's body shown

# payload -> (the function error, e.g. "Unhandled", or None; the response payload)
Probe = Callable[[bytes], tuple[str | None, bytes]]


class CheckFailed(DeployError):
    """The new version initialised but its ``check`` request failed; the alias stays."""


def url_event(
    function: str,
    region: str,
    path: str,
    *,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    request_id: str = "strum-invoke",
) -> dict[str, Any]:
    """The payload 2.0 event a Function URL request to ``path`` becomes."""
    from strum.platform.urls import events

    identifier = events.url_id(_ACCOUNT, function)
    pairs = [*(headers or ()), ("Host", events.url_domain(identifier, region))]
    request = events.UrlRequest(
        method=method.upper(), raw_path=path, headers=pairs, body=body, source_ip="127.0.0.1"
    )
    context = events.UrlContext(url_id=identifier, region=region, account_id=_ACCOUNT)
    return events.build_event(request, context, request_id=request_id)


def verify_version(
    probe: Probe,
    *,
    function: str,
    version: str,
    alias: str,
    serving: str | None,
    project: Path | None,
    check: str | None = None,
    region: str = "us-east-1",
) -> None:
    """Raise unless ``version`` initialises and, with ``check``, answers it under 500."""
    error, body = probe(PING)
    if error:
        raise StartupFailed(
            explain(
                error_document(body),
                project=project or Path.cwd(),
                function=function,
                version=version,
                alias=alias,
                serving=serving,
            )
        )
    if check is None:
        return
    event = url_event(function, region, check, request_id="strum-deploy-check")
    error, body = probe(json.dumps(event).encode())
    stayed = (
        f"the alias {alias} still serves version {serving}"
        if serving
        else f"the alias {alias} was not created"
    )
    head = f"version {version} of {function} failed its check (GET {check}), so {stayed}:"
    if error:
        document = error_document(body)
        raise CheckFailed(
            f"{head}\n  the function raised {document.get('errorType') or 'Error'}: "
            f"{_excerpt(str(document.get('errorMessage') or ''))}\n"
            "  fix the handler of that path, then `strum deploy` again; `strum tail` shows "
            "the whole log"
        )
    status, text = _http_answer(body)
    if status >= 500:
        raise CheckFailed(
            f"{head}\n  HTTP {status}: {_excerpt(text) or '(empty body)'}\n"
            f"  the check needs a status under 500: fix what GET {check} reports, or change "
            "`check` in [tool.strum]; then `strum deploy` again"
        )


def error_document(body: bytes) -> dict[str, Any]:
    """The runtime's error document (``errorType``, ``errorMessage``, ``stackTrace``)."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return {"errorType": "Runtime.Unknown", "errorMessage": body.decode("utf-8", "replace")}
    return document


def _http_answer(payload: bytes) -> tuple[int, str]:
    """The status and body text a URL client would get for the function's ``payload``."""
    from strum.platform.urls import events

    try:
        split = events.split_prelude(payload)
        if split is not None:  # a streaming function's http-integration prelude
            prelude, rest = split
            response = events.response_from_document(prelude, body_required=False)
            response.body = rest
        else:
            response = events.interpret_result(payload)
    except events.MalformedResponse as exc:
        return 502, f"the response cannot be mapped to HTTP ({exc})"
    return response.status, response.body.decode("utf-8", "replace")


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[:_EXCERPT] + " ..."
