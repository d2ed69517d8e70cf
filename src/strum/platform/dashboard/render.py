"""The dashboard's HTML: Jinja2 templates beside this module, autoescaped.

Jinja2 is imported on the first page rendered, never by the platform's start: a platform
nobody looks at does not pay for it. Autoescaping is why a template engine and not
``string.Template``: every page shows text functions and their callers control (names,
environment values, log lines), and escaping it by hand at each place is how a page ends
up running a function's log line as script.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

__all__ = ["render"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.cache
def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    return environment


def _when(value: float | None) -> str:
    if not value:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))


def render(template: str, **context: Any) -> str:
    """The page ``template`` with ``context``."""
    return str(_environment().get_template(template).render(**context))
