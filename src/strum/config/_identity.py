"""A stage's identity alone - its function's name and where it runs - for ``strum undeploy``.

Removing a stage needs to know which function it is (``<name>-<stage>``) and on which
target (and, on AWS, region and profile); nothing else in the file. ``load_identity``
reads only those keys, so a config with an unrelated mistake - a bad ``memory``, an
``app`` that moved - still lets its stage be removed. Those keys themselves must be valid.
"""

from __future__ import annotations

from pathlib import Path

from strum.config import _checks as checks
from strum.config._load import _default_python, _read
from strum.config._model import DEFAULT_STAGE, ProjectConfig
from strum.config._problems import INVALID, Invalid, Problems, Where

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The keys that say which function a stage is and where it lives.
_IDENTITY_KEYS = {
    "name": checks.project_name,
    "target": checks.choice("local", "aws"),
    "region": checks.region,
    "profile": checks.string,
}


def load_identity(project_dir: Path, stage: str | None = None) -> ProjectConfig:
    """The ``ProjectConfig`` of ``stage`` with its name, target, region and profile read
    from the file and every other setting at its default."""
    project_dir = Path(project_dir)
    source, table, prefix, project_name = _read(project_dir)
    problems = Problems(source)
    root = Where(problems, prefix, project_dir)
    chosen = stage or DEFAULT_STAGE
    found = table.get("stages")
    stages: dict[str, Any] = found if isinstance(found, dict) else {}
    layer = stages.get(chosen)
    if layer is None and chosen != DEFAULT_STAGE:
        listed = ", ".join(sorted({DEFAULT_STAGE, *stages}))
        root.at("stages", chosen).report(
            f'stage "{chosen}" is not defined (the stages are {listed})'
        )
    values: dict[str, Any] = {}
    for where, keys, source_table in (
        (root, ("name",), table),
        (root.at("stages", chosen), tuple(_IDENTITY_KEYS), layer or {}),
    ):
        for key in keys:
            if not isinstance(source_table, dict) or key not in source_table:
                continue
            spot = where.at(key)
            try:
                values[key] = _IDENTITY_KEYS[key](source_table[key], spot)
            except Invalid as exc:
                spot.report(str(exc))
                values[key] = INVALID
    problems.raise_if_any()
    name = values.get("name") or checks.sanitise_name(project_name or project_dir.resolve().name)
    return ProjectConfig(
        stage=chosen,
        project=name,
        python=_default_python(),
        target=values.get("target", "local"),
        region=values.get("region"),
        profile=values.get("profile"),
        project_dir=project_dir,
        source=source,
    )
