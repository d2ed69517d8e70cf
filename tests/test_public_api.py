"""The names strum exports are a contract: changing them is a decision, not an accident."""

from __future__ import annotations

import strum
import strum.adapter


def test_exported_names():
    assert strum.__all__ == ["make_handler", "task"]
    assert sorted(strum.adapter.__all__) == ["LambdaHandler", "detect_interface", "make_handler"]
    assert strum.make_handler is strum.adapter.make_handler


def test_every_public_object_has_a_docstring():
    for module in (strum, strum.adapter):
        for name in module.__all__:
            assert getattr(module, name).__doc__, f"{module.__name__}.{name} has no docstring"
