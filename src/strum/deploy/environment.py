"""The environment a deployed function gets: its own ``env`` plus declared pass-throughs.

``[tool.strum.permissions] env = ["DATABASE_URL"]`` names host variables the function may
see. They are read from the deploying shell at deploy time - the only moment strum has
the host's environment on both targets - and stored in the function's configuration, so
a redeploy picks up a changed value. Nothing else of the host's environment reaches a
function.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig


def function_environment(
    config: ProjectConfig, notes: list[str], host: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """The stage's variables, sorted, with the declared host variables added.

    A declared variable missing from ``host`` (default: ``os.environ``) is left out with a
    note; one the config also sets keeps the config's value, with a note.
    """
    host = os.environ if host is None else host
    variables = dict(config.env)
    for name in config.permissions.env:
        if name in variables:
            notes.append(
                f"{name} is both set in env and passed through from the host; the value in "
                "env wins - drop one of them"
            )
        elif name in host:
            variables[name] = host[name]
        else:
            notes.append(
                f"permissions.env passes {name} through, but it is not set in this shell; the "
                f"function will not see it (export {name}=... and deploy again)"
            )
    return tuple(sorted(variables.items()))
