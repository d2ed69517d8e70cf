"""What a deploy says when the new version cannot start: the user's error, not strum's.

A version that fails its init (a syntax error, a missing module, an exception raised at
import, an app reference that names nothing) is published but never served: the deploy
stops before the alias moves. This turns the runtime's error document into a message in
the user's terms - the file, the line, the offending source line, the exception - and the
fix where one is known, such as a module the package does not contain.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from strum.deploy.errors import DeployError

__all__ = ["StartupFailed", "explain"]

# Where a function's code lives, in a sandbox (/var/task) or unpacked on the host.
_CODE_ROOT = re.compile(r'File "(?:/var/task|[^"]*/unpacked/[0-9a-f]{64})/')
_MISSING = re.compile(r"No module named '([^']+)'")
_STRUM_FRAME = re.compile(r'File "(?:[^"]*/)?strum/(?:adapter|runtime)/')
_FACTORY = re.compile(r"cannot tell whether <function (\w+)")
_FRAME = re.compile(r'\s*File "([^"]+)",? [lL]ine (\d+)')


class StartupFailed(DeployError):
    """The new version failed to initialise; the alias still serves what it served."""


def explain(
    document: dict[str, Any],
    *,
    project: Path,
    function: str,
    version: str,
    alias: str,
    serving: str | None,
) -> str:
    """The message for a version whose init failed with ``document`` (the runtime's error:
    ``errorType``, ``errorMessage``, ``stackTrace``)."""
    error_type = str(document.get("errorType") or "Error")
    message = str(document.get("errorMessage") or "").strip()
    stayed = (
        f"the alias {alias} still serves version {serving}"
        if serving
        else f"the alias {alias} was not created"
    )
    lines = [
        f"version {version} of {function} failed to start, so it serves nothing and {stayed}:",
        f"  {error_type}: {message}",
    ]
    trace = [
        _CODE_ROOT.sub('File "', str(entry)).rstrip()
        for entry in document.get("stackTrace") or ()
        # strum's own frames (the adapter checking the app, say) are not where the fix is.
        if not _STRUM_FRAME.search(str(entry))
    ]
    for entry in trace[-6:]:
        lines.extend("    " + part.strip() for part in entry.splitlines() if part.strip())
    fix = _fix(error_type, message, trace, project)
    if fix:
        lines.append(f"  fix: {fix}")
    lines.append("  then `strum deploy` again; `strum tail` shows the whole log")
    return "\n".join(lines)


def _fix(error_type: str, message: str, trace: list[str], project: Path) -> str | None:
    missing = _MISSING.search(message)
    if missing:
        module = missing.group(1).split(".")[0]
        where = _last_frame(trace)
        imported = f" is imported by {where}" if where else " is imported"
        if (project / f"{module}.py").exists() or (project / module).is_dir():
            return (
                f"`{module}`{imported} and is in your project, but not in the package: check "
                "`exclude` and `include` in [tool.strum]"
            )
        return (
            f"`{module}`{imported} but is not in your dependencies: add it to [project] "
            "dependencies in pyproject.toml or to requirements.txt"
        )
    factory = _FACTORY.search(message)
    if factory:
        name = factory.group(1)
        return (
            f"`app` names the function {name}, not an application - a factory? Add "
            f"`app = {name}()` at the top level of its module and point `app` at that"
        )
    if "SyntaxError" in error_type or "Syntax error" in message:
        return "correct the syntax at the line shown"
    if "has no attribute" in message and "app" in message:
        return (
            "`app` in [tool.strum] must name the WSGI/ASGI application object (module:name); "
            "a factory function needs a module-level `app = create_app()`"
        )
    return None


def _last_frame(trace: list[str]) -> str | None:
    for entry in reversed(trace):
        match = _FRAME.match(entry)
        if match:
            return f"{match.group(1)} line {match.group(2)}"
    return None
