"""CloudFormation building blocks shared by the template modules (``strum.aws.template``
and its parts): resources, logical ids and references inside strings. Pure."""

from __future__ import annotations

import hashlib
import re
from typing import Any


def ref_in(logical_id: str) -> str:
    """A placeholder for ``${logical_id}`` inside a string; ``strum.aws.template`` turns
    strings holding one into ``Fn::Sub``."""
    return f"\0{logical_id}\0"


def resource(kind: str, **properties: Any) -> dict[str, Any]:
    """A resource; properties that are ``None`` are left out (AWS's default applies)."""
    return {
        "Type": kind,
        "Properties": {key: value for key, value in properties.items() if value is not None},
    }


def logical_id(name: str, suffix: str, taken: dict[str, Any]) -> str:
    """``strum-rule-nightly`` -> ``StrumRuleNightly<suffix>``: letters and digits only.

    Names that differ only in punctuation (``a-b``, ``a_b``) would collide; the later one
    gets a short hash of its name, so ids stay stable from one run to the next.
    """
    words = re.split(r"[^A-Za-z0-9]+", name)
    base = "".join(word[:1].upper() + word[1:] for word in words if word) + suffix
    if base not in taken:
        return base
    return f"{base}{hashlib.sha256(name.encode()).hexdigest()[:8]}"
