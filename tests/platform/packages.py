"""Builders for deployment packages the platform tests deploy (tiny real zips)."""

from __future__ import annotations

import io
import zipfile

ROLE = "arn:aws:iam::000000000000:role/strum-test"

# A handler that reports what it saw; "fail" raises, "print" writes to the log.
HANDLER_SOURCE = """\
import os

MARK = {mark!r}


def handler(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    if isinstance(event, dict) and event.get("print"):
        print(event["print"])
    return {{
        "mark": MARK,
        "event": event,
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "arn": context.invoked_function_arn,
        "greeting": os.environ.get("GREETING"),
    }}
"""


def make_zip(files: dict[str, str | bytes], *, modes: dict[str, int] | None = None) -> bytes:
    """A zip of ``files`` with fixed timestamps and unix modes (default 0o644)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = ((modes or {}).get(name, 0o100644)) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def handler_zip(mark: str = "one") -> bytes:
    """A Python function package (handler ``app.handler``) answering with ``mark``."""
    return make_zip({"app.py": HANDLER_SOURCE.format(mark=mark)})


def create_function(client, name: str = "fn", *, mark: str = "one", **extra):
    """CreateFunction with a working Python package; ``extra`` overrides any field."""
    fields = {
        "FunctionName": name,
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": handler_zip(mark)},
        **extra,
    }
    return client.create_function(**fields)
