"""IAM's ``Condition`` block, decided against a request's context keys.

The semantics are IAM's, from "IAM JSON policy elements: Condition operators":

- every operator in a block must hold, every key under an operator must hold (AND);
- several values for one key: any of them may match (OR); for a negated operator
  (``StringNotEquals``, ``ArnNotLike``, ...) none may (the negation of that OR);
- a key missing from the request makes a condition false, except that a negated operator
  is then true, ``...IfExists`` is true, and ``Null`` tests exactly that absence;
- ``ForAnyValue:`` / ``ForAllValues:`` compare a multi-valued key element by element
  (``ForAllValues`` holds for a missing or empty key, as IAM documents);
- condition key names are case-insensitive, values compare as the operator says.

Hand-written because it is strum's own: no maintained Python library evaluates IAM
policies, and the platform's authorisation must be exactly this and nothing more.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

__all__ = [
    "OPERATORS",
    "Condition",
    "ConditionError",
    "Context",
    "ContextValue",
    "arn_glob",
    "glob",
]

# A request context: condition key (any case) -> one value or several.
ContextValue = str | bool | int | float | Sequence[str]
Context = Mapping[str, ContextValue]


class ConditionError(ValueError):
    """A condition block IAM would refuse: an unknown operator or a malformed value."""


def _string(value: str) -> str:
    return value


def _number(value: str) -> float:
    return float(value)


def _date(value: str) -> float:
    # IAM takes ISO 8601 dates and times, or epoch seconds.
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    text = value.replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


# Patterns are few and asked about on every request: compile each once.
@functools.lru_cache(maxsize=4096)
def glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's ``*`` (any run of characters) and ``?`` (one character) as a regex."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@functools.lru_cache(maxsize=4096)
def arn_glob(pattern: str) -> re.Pattern[str]:
    """An ARN pattern: wildcards stay inside a colon-separated segment, except that a ``*``
    ending a segment may run past the colons after it (IAM's Resource element rules)."""
    out = []
    for index, char in enumerate(pattern):
        if char == "*":
            at_end = index + 1 == len(pattern) or pattern[index + 1] == ":"
            out.append(".*" if at_end else "[^:]*")
        elif char == "?":
            out.append("[^:]")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _equals(policy: str, actual: str) -> bool:
    return policy == actual


def _equals_ignore_case(policy: str, actual: str) -> bool:
    return policy.casefold() == actual.casefold()


def _like(policy: str, actual: str) -> bool:
    return glob(policy).fullmatch(actual) is not None


def _arn_like(policy: str, actual: str) -> bool:
    return arn_glob(policy).fullmatch(actual) is not None


def _in_network(policy: str, actual: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False


def _bool(policy: str, actual: str) -> bool:
    return policy.lower() == actual.lower()


def _ordered(
    compare: Callable[[float, float], bool], convert: Callable[[str], float]
) -> Callable[[str, str], bool]:
    def match(policy: str, actual: str) -> bool:
        try:
            return compare(convert(actual), convert(policy))
        except ValueError:
            return False

    return match


@dataclass(frozen=True)
class _Operator:
    match: Callable[[str, str], bool]
    negated: bool = False
    check: Callable[[str], object] = _string


def _family(convert: Callable[[str], float], prefix: str) -> dict[str, _Operator]:
    return {
        f"{prefix}Equals": _Operator(_ordered(lambda a, p: a == p, convert), check=convert),
        f"{prefix}NotEquals": _Operator(
            _ordered(lambda a, p: a == p, convert), negated=True, check=convert
        ),
        f"{prefix}LessThan": _Operator(_ordered(lambda a, p: a < p, convert), check=convert),
        f"{prefix}LessThanEquals": _Operator(_ordered(lambda a, p: a <= p, convert), check=convert),
        f"{prefix}GreaterThan": _Operator(_ordered(lambda a, p: a > p, convert), check=convert),
        f"{prefix}GreaterThanEquals": _Operator(
            _ordered(lambda a, p: a >= p, convert), check=convert
        ),
    }


def _network(value: str) -> object:
    return ipaddress.ip_network(value, strict=False)


OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator(_equals),
    "StringNotEquals": _Operator(_equals, negated=True),
    "StringEqualsIgnoreCase": _Operator(_equals_ignore_case),
    "StringNotEqualsIgnoreCase": _Operator(_equals_ignore_case, negated=True),
    "StringLike": _Operator(_like),
    "StringNotLike": _Operator(_like, negated=True),
    **_family(_number, "Numeric"),
    **_family(_date, "Date"),
    "Bool": _Operator(_bool),
    "BinaryEquals": _Operator(_equals),
    "IpAddress": _Operator(_in_network, check=_network),
    "NotIpAddress": _Operator(_in_network, negated=True, check=_network),
    "ArnEquals": _Operator(_arn_like),
    "ArnLike": _Operator(_arn_like),
    "ArnNotEquals": _Operator(_arn_like, negated=True),
    "ArnNotLike": _Operator(_arn_like, negated=True),
}


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` entry of a Condition block, checked at parse time."""

    operator: str
    key: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, operator: str, key: str, raw: object) -> Condition:
        base = _split_operator(operator)[0]
        if base != "Null" and base not in OPERATORS:
            raise ConditionError(f"unknown condition operator {operator!r}")
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, str | bool | int | float) for v in values):
            raise ConditionError(f"{operator}.{key}: values must be strings, numbers or booleans")
        text = tuple(_as_text(value) for value in values)
        check = OPERATORS[base].check if base in OPERATORS else _bool_text
        for value in text:
            try:
                check(value)
            except ValueError:
                raise ConditionError(f"{operator}.{key}: {value!r} is not valid here") from None
        return cls(operator, key, text)

    def holds(self, context: Context) -> bool:
        """Whether this condition is true for a request with these context keys."""
        base, qualifier, if_exists = _split_operator(self.operator)
        actual = _lookup(context, self.key)
        if base == "Null":
            # Null: true means "the key is absent", false means "the key is present".
            return any((actual is None) == (value.lower() == "true") for value in self.values)
        if actual is None:
            if qualifier == "ForAllValues:":
                return True
            return if_exists or OPERATORS[base].negated
        operator = OPERATORS[base]
        items = [actual] if isinstance(actual, str) else list(actual)
        if qualifier == "ForAllValues:":
            return all(_one(operator, self.values, item) for item in items)
        if qualifier == "ForAnyValue:":
            return any(_one(operator, self.values, item) for item in items)
        # A multi-valued key without a set qualifier: every element must hold (an empty one
        # holds nothing).
        return bool(items) and all(_one(operator, self.values, item) for item in items)


def _one(operator: _Operator, values: tuple[str, ...], actual: str) -> bool:
    matched = any(operator.match(value, actual) for value in values)
    return not matched if operator.negated else matched


def _split_operator(operator: str) -> tuple[str, str, bool]:
    qualifier = ""
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        if operator.startswith(prefix):
            qualifier, operator = prefix, operator[len(prefix) :]
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[: -len("IfExists")]
    return operator, qualifier, if_exists


def _lookup(context: Context, key: str) -> str | list[str] | None:
    folded = key.casefold()
    for name, value in context.items():
        if name.casefold() == folded:
            if isinstance(value, str | bool | int | float):
                return _as_text(value)
            return [str(item) for item in value]
    return None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool_text(value: str) -> object:
    if value.lower() not in ("true", "false"):
        raise ValueError(value)
    return value
