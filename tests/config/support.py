"""A tiny project's app module, and the list of problems a config is refused with."""

from __future__ import annotations

import pytest

from strum.config import ConfigError, load_config

APP = """\
from flask import Flask

app = Flask(__name__)


def cleanup(event, context):
    return "done"


def handle(record, context):
    return None
"""


def problems(directory, stage=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(directory, stage)
    return list(info.value.problems)
