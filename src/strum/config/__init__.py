"""strum's project configuration: ``[tool.strum]`` in pyproject.toml, or ``strum.toml``.

``load_config(project_dir, stage)`` reads the file, validates all of it before anything
runs, and returns the settings of one stage as a frozen ``ProjectConfig``. Every problem
is collected into one ``ConfigError`` whose lines name the file, the key path
(``tool.strum.stages.prod.memory``) and the fix.

Top-level keys apply to every stage; ``[tool.strum.stages.<name>]`` overrides them for one
stage. Tables merge: ``env``, ``permissions``, ``async``, ``volumes`` and ``durable`` key by key, ``schedules`` and ``events``
entry by entry and then field by field; any other value is replaced. ``target``,
``region``, ``profile``, ``role_arn``, ``http_api``, ``domain`` and ``vpc`` are set per stage
only.
The ``dev`` stage always exists, targets the local platform unless it says otherwise, and
is the one used when no stage is named. A stage's function is ``<name>-<stage>``, where
``name`` defaults to ``[project].name`` (or the directory's name) made Lambda-safe.
``load_identity`` reads a stage's name and target alone (what ``strum undeploy`` needs).
"""

from __future__ import annotations

from strum.config._identity import load_identity
from strum.config._load import load_config
from strum.config._model import (
    DEFAULT_STAGE,
    SUPPORTED_PYTHONS,
    AsyncInvocation,
    Durable,
    EventSource,
    Permissions,
    ProjectConfig,
    Schedule,
    StageConfig,
    Volume,
    Vpc,
)
from strum.errors import ConfigError

__all__ = [
    "DEFAULT_STAGE",
    "SUPPORTED_PYTHONS",
    "AsyncInvocation",
    "ConfigError",
    "Durable",
    "EventSource",
    "Permissions",
    "ProjectConfig",
    "Schedule",
    "StageConfig",
    "Volume",
    "Vpc",
    "load_config",
    "load_identity",
]
