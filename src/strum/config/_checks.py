"""One check per config key: take the raw TOML value, return it normalised or raise ``Invalid``.

Checks of tables (``env``, ``schedules``, ``events``, ``permissions``) report each bad entry
at its own key path and return what was valid, so one run lists every problem.
"""

from __future__ import annotations

import re

from strum.config._model import SUPPORTED_PYTHONS
from strum.config._problems import Invalid, Where, describe, did_you_mean, quote
from strum.config._references import check_module, check_reference, is_dotted_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Check = Callable[[Any, Where], Any]


ENV_NAME = r"[A-Za-z][A-Za-z0-9_]+"  # Lambda's own rule for variable keys
# Set by the Lambda runtime itself; CreateFunction rejects them.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
        "TZ",
    }
)
# The values CloudWatch Logs accepts for a log group's retention.
RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827),
    *(2192, 2557, 2922, 3288, 3653),
)
STAGE_NAME = r"[A-Za-z0-9_-]+"
LAMBDA_NAME = r"[A-Za-z0-9_-]+"
REGION = r"[a-z]{2}(-[a-z]+)+-\d{1,2}"
ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+"
HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
MIME_TYPE = r"[\w.+-]+/[\w.+*-]+"
RULE_NAME = r"[A-Za-z0-9._-]+"
IAM_ACTION = r"[a-z0-9-]+:[A-Za-z0-9*]+"
SOURCES = {
    "sqs": "sqs",
    "sns": "sns",
    "s3": "s3",
    "eventbridge": "events",
    "dynamodb": "dynamodb",
    "kinesis": "kinesis",
}
STREAMS = ("sqs", "kinesis", "dynamodb")  # sources read by an event source mapping


def matches(pattern: str, text: str) -> bool:
    """Whether all of ``text`` matches ``pattern`` (compiled on first use, then cached by re)."""
    return re.fullmatch(pattern, text) is not None


# -- scalars ---------------------------------------------------------------------------


def integer(low: int, high: int | None, unit: str, key: str) -> Check:
    """A whole number in ``low..high`` (``high=None``: no upper bound); ``unit`` for messages."""
    units = f" {unit}" if unit else ""
    span = f"from {low} to {high}{units}" if high is not None else f"{low} or more"
    allowed = f"Lambda allows {low} to {high}{units}" if high is not None else f"use {low} or more"

    def check(value: Any, where: Where) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            raise Invalid(
                f"must be a number, not {describe(value)}; remove the quotes: "
                f"{key} = {value.strip()}"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be a whole number {span}, not {describe(value)}")
        if value < low or (high is not None and value > high):
            raise Invalid(f"{value}{units} is out of range: {allowed}")
        return value

    return check


def boolean(key: str) -> Check:
    """``true`` or ``false``."""

    def check(value: Any, where: Where) -> bool:
        if isinstance(value, bool):
            return value
        fix = ""
        if isinstance(value, str) and value.lower() in ("true", "false"):
            fix = f"; remove the quotes: {key} = {value.lower()}"
        raise Invalid(f"must be true or false, not {describe(value)}{fix}")

    return check


def choice(*options: str) -> Check:
    """One of ``options`` (strings)."""
    listed = ", ".join(quote(option) for option in options)

    def check(value: Any, where: Where) -> str:
        if isinstance(value, str) and value in options:
            return value
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        raise Invalid(f"must be one of {listed}, not {describe(value)}{hint}")

    return check


def string(value: Any, where: Where) -> str:
    """A non-empty string."""
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {describe(value)}")
    if not value.strip():
        raise Invalid("must not be empty; remove the key to use the default")
    return value


def string_list(example: str, key: str) -> Check:
    """A list of non-empty strings."""

    def check(value: Any, where: Where) -> tuple[str, ...]:
        if isinstance(value, str):
            raise Invalid(f"must be a list; put the string in brackets: {key} = [{quote(value)}]")
        if not isinstance(value, list):
            raise Invalid(
                f"must be a list of strings, e.g. {key} = [{example}], not {describe(value)}"
            )
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                where.at(str(index)).report(f"must be a non-empty string, not {describe(item)}")
            else:
                items.append(item)
        return tuple(items)

    return check


# -- keys with their own rules ---------------------------------------------------------


def app(value: Any, where: Where) -> str:
    """``"module:attribute"``, or a Django settings module (a dotted name without ``:``)."""
    text = string(value, where)
    if ":" in text or text.endswith(")"):
        return check_reference(text, where.project_dir, "app")
    if not is_dotted_name(text):
        raise Invalid(
            f'app "{text}" should be "module:attribute" (a WSGI/ASGI app object) or a Django '
            'settings module such as "mysite.settings"'
        )
    check_module(text, where.project_dir, "app (a Django settings module)")
    _not_an_app_module(text, where)
    return text


def _not_an_app_module(module: str, where: Where) -> None:
    # A module name alone means Django settings; catch "hello" written for "hello:app".
    from strum.config._references import find_module, top_level_names

    path = find_module(where.project_dir, module)
    names = top_level_names(path) if path is not None else None
    if names is None or names & {"INSTALLED_APPS", "ROOT_URLCONF", "SECRET_KEY"}:
        return
    for attribute in ("app", "application", "api"):
        if attribute in names:
            raise Invalid(
                f'"{module}" has no ":", which means a Django settings module, but it defines '
                f'"{attribute}" and no Django settings; write app = "{module}:{attribute}"'
            )


def django_settings(value: Any, where: Where) -> str:
    """A dotted module name of a settings module inside the project."""
    text = string(value, where)
    if not is_dotted_name(text):
        raise Invalid(f'must be a dotted module name such as "mysite.settings", not "{text}"')
    check_module(text, where.project_dir, "django_settings")
    return text


def python(value: Any, where: Where) -> str:
    """A Lambda Python runtime version as a string."""
    supported = ", ".join(quote(version) for version in SUPPORTED_PYTHONS)
    if isinstance(value, float):
        raise Invalid(
            f'must be a string, not the number {value}; quote it, e.g. python = "3.12" '
            "(as a number, 3.10 reads as 3.1)"
        )
    text = string(value, where)
    bare = text.removeprefix("python")
    if bare in SUPPORTED_PYTHONS:
        if bare != text:
            raise Invalid(f'write the version alone: python = "{bare}"')
        return text
    raise Invalid(f'"{text}" is not a Python version AWS Lambda runs; use one of {supported}')


def architecture(value: Any, where: Where) -> str:
    """``x86_64`` or ``arm64``, Lambda's spelling."""
    aliases = {"aarch64": "arm64", "amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64"}
    if isinstance(value, str) and value in ("x86_64", "arm64"):
        return value
    if isinstance(value, str) and value.lower() in aliases:
        raise Invalid(
            f'Lambda calls it "{aliases[value.lower()]}": architecture = "{aliases[value.lower()]}"'
        )
    return str(choice("x86_64", "arm64")(value, where))


def project_name(value: Any, where: Where) -> str:
    """A Lambda-safe project name (letters, digits, ``-``, ``_``)."""
    text = string(value, where)
    if not matches(LAMBDA_NAME, text):
        raise Invalid(
            f'"{text}" cannot be part of a Lambda function name (letters, digits, "-" and "_" '
            f'only); e.g. name = "{sanitise_name(text)}"'
        )
    return text


def sanitise_name(text: str) -> str:
    """``text`` made Lambda-safe: other characters become ``-``, at most 48 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:48].strip("-_")
    return cleaned or "app"


def env(value: Any, where: Where) -> dict[str, str]:
    """A table of environment variable names to string values."""
    if not isinstance(value, dict):
        raise Invalid(f'must be a table, e.g. env = {{ GREETING = "hi" }}, not {describe(value)}')
    valid: dict[str, str] = {}
    for name, item in value.items():
        spot = where.at(name)
        if name in RESERVED_ENV:
            spot.report(f"{name} is reserved: the Lambda runtime sets it; use another name")
        elif not matches(ENV_NAME, name):
            spot.report(
                f'"{name}" is not a valid variable name for Lambda: start with a letter, then '
                "letters, digits or _ (at least 2 characters)"
            )
        elif not isinstance(item, str):
            from strum.redact import looks_secret

            fix = str(item).lower() if isinstance(item, bool) else str(item)
            kind = "table or list" if isinstance(item, (dict, list)) else "value"
            what = describe(item)
            if looks_secret(name) and what.startswith("the "):
                # The message must not print the secret it is about: "a number", "...".
                what, fix = "a " + what.split()[1], "..."
            spot.report(
                f"environment values are strings, not {what}; "
                + (f'quote it: {name} = "{fix}"' if kind == "value" else "encode it as a string")
            )
        else:
            valid[name] = item
    return valid


def text_mime_types(value: Any, where: Where) -> tuple[str, ...]:
    """MIME types (``type/subtype``) to treat as text."""
    items = string_list('"application/vnd.api+json"', "text_mime_types")(value, where)
    valid = []
    for index, item in enumerate(items):
        if matches(MIME_TYPE, item):
            valid.append(item)
        else:
            where.at(str(index)).report(
                f'"{item}" is not a MIME type; write type/subtype, e.g. "application/json"'
            )
    return tuple(valid)


def glob_list(key: str) -> Check:
    """Glob patterns relative to the project."""
    as_strings = string_list('"docs/**"', key)

    def check(value: Any, where: Where) -> tuple[str, ...]:
        items = as_strings(value, where)
        for index, item in enumerate(items):
            if item.startswith(("/", "~")):
                where.at(str(index)).report(
                    f'"{item}" is an absolute path; patterns are relative to the project, '
                    'e.g. "docs/**"'
                )
        return tuple(item for item in items if not item.startswith(("/", "~")))

    return check


def base_path(value: Any, where: Where) -> str | None:
    """A URL path prefix such as ``/api``; ``/`` means none."""
    text = string(value, where)
    if not text.startswith("/") or any(ch in text for ch in "?# "):
        raise Invalid('must be a URL path starting with "/", e.g. base_path = "/api"')
    return text.rstrip("/") or None


def check_path(value: Any, where: Where) -> str:
    """The path a deploy GETs through the new version before it serves: ``/healthz``."""
    text = string(value, where).strip()
    if not text.startswith("/") or any(ch.isspace() for ch in text) or "#" in text:
        raise Invalid(
            'must be a URL path (and query) starting with "/", e.g. check = "/healthz"; '
            "a deploy sends GET to it through the new version before the alias moves"
        )
    return text


def log_retention_days(value: Any, where: Where) -> int:
    """One of the retention periods CloudWatch Logs offers."""
    days: int = integer(1, None, "", "log_retention_days")(value, where)
    if days in RETENTION_DAYS:
        return days
    below = max((d for d in RETENTION_DAYS if d < days), default=None)
    above = min((d for d in RETENTION_DAYS if d > days), default=None)
    nearest = " or ".join(str(d) for d in (below, above) if d is not None)
    raise Invalid(
        f"CloudWatch Logs cannot keep logs for {days} days; the nearest choices are {nearest}"
    )


def region(value: Any, where: Where) -> str:
    """An AWS region name such as ``eu-west-1``."""
    text = string(value, where)
    if matches(REGION, text):
        return text
    if matches(REGION, text.lower()):
        raise Invalid(f'region names are lower case: region = "{text.lower()}"')
    raise Invalid(f'"{text}" is not an AWS region name; regions look like "eu-west-1"')


BUCKET_NAME = r"(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?<!-s3alias)(?<!--ol-s3)"
IP_ADDRESS = r"\d+\.\d+\.\d+\.\d+"


def bucket(value: Any, where: Where) -> str:
    """An S3 bucket name (S3's naming rules), not an ARN or URL."""
    text = string(value, where)
    name = text.removeprefix("s3://").removeprefix("arn:aws:s3:::").rstrip("/")
    if name != text and matches(BUCKET_NAME, name):
        raise Invalid(f'give the bucket name only: bucket = "{name}"')
    if matches(BUCKET_NAME, text) and ".." not in text and not matches(IP_ADDRESS, text):
        return text
    if matches(BUCKET_NAME, text.lower()):
        raise Invalid(f'S3 bucket names are lower case: bucket = "{text.lower()}"')
    raise Invalid(
        f'"{text}" is not an S3 bucket name: 3 to 63 lower-case letters, digits, "." and "-", '
        "starting and ending with a letter or digit"
    )


def role_arn(value: Any, where: Where) -> str:
    """An IAM role ARN."""
    text = string(value, where)
    if matches(ROLE_ARN, text):
        return text
    raise Invalid(
        f'"{text}" is not an IAM role ARN; it looks like "arn:aws:iam::123456789012:role/name"'
    )


def domain(value: Any, where: Where) -> str:
    """A host name (no scheme, no path)."""
    text = string(value, where)
    if "://" in text or "/" in text:
        host = text.split("://")[-1].split("/")[0]
        raise Invalid(f'give the host name only, without scheme or path: domain = "{host}"')
    labels = text.lower().rstrip(".").split(".")
    if len(labels) < 2 or len(text) > 253 or not all(matches(HOST_LABEL, lb) for lb in labels):
        raise Invalid(f'"{text}" is not a host name like "api.example.com"')
    return text.lower().rstrip(".")


def stage_name(name: str) -> str | None:
    """Why ``name`` cannot be a stage name, or ``None`` if it can."""
    if not matches(STAGE_NAME, name):
        return (
            f'stage name "{name}" can only use letters, digits, "-" and "_" (it becomes the '
            "Lambda alias)"
        )
    if name.isdigit():
        return f'stage name "{name}" cannot be only digits (Lambda would read it as a version)'
    return None
