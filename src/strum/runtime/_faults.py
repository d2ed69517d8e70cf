"""Errors as AWS reports them: the JSON error document and the ``[ERROR]`` log record.

The document is ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` with
``stackTrace`` a list of ``traceback.format_list`` strings, exactly as ``awslambdaric``
builds it, because callers parse it (``X-Amz-Function-Error`` responses, Step Functions
``Catch`` on ``errorType``). ``traceback`` (which pulls in ``linecache`` and ``tokenize``) is
imported only when something has failed, keeping it off the cold-start path.
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RUNTIME_DIR = __file__.rpartition("/")[0] + "/"


class Fault(Exception):
    """A failure the runtime detected itself, reported with an AWS ``Runtime.*`` type.

    Unlike exceptions from user code these carry no stack trace of their own: the
    message says what was wrong (bad handler name, result not serialisable...).
    """

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []

    def document(self, request_id: str = "") -> dict[str, Any]:
        return error_document(self.message, self.error_type, self.stack_trace, request_id)


def error_document(
    message: str, error_type: str, stack_trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    """The JSON error body the Runtime API expects, keys in ``awslambdaric``'s order."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def document_for(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The error document for any exception, user code's stack frames only."""
    if isinstance(exc, Fault):
        return exc.document(request_id)
    return error_document(str(exc), type(exc).__name__, format_frames(user_frames(exc)), request_id)


Frame = tuple[str, int, str, "str | None"]


def user_frames(exc: BaseException) -> list[Frame]:
    """``exc``'s stack frames (file, line, function, source), from the first of user code."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    # The runtime's own frames (and importlib's, for errors raised while importing the
    # handler module) say nothing about the user's bug; AWS drops its bootstrap too.
    start = 0
    while start < len(frames) and _is_runtime_frame(frames[start].filename):
        start += 1
    return [(f.filename, f.lineno or 0, f.name, f.line) for f in frames[start:]]


def format_frames(frames: list[Frame]) -> list[str]:
    """Frames as ``traceback.format_list`` lines; plain tuples, as awslambdaric passes
    them, so the lines carry no ^^^ markers."""
    import traceback

    return traceback.format_list(frames)


def _is_runtime_frame(filename: str) -> bool:
    return (
        filename.startswith(_RUNTIME_DIR)
        or filename.startswith("<frozen importlib")
        or filename.endswith("/importlib/__init__.py")
    )


def to_json(document: dict[str, Any]) -> bytes:
    """Serialise an error document; never fails, since it reports other failures."""
    return json.dumps(document, default=repr).encode("utf-8")


def log_error(document: dict[str, Any]) -> None:
    """Write the ``[ERROR] Type: message`` record with its traceback to standard error.

    Lines are joined with ``\\r``, not ``\\n``, as AWS's runtime does: CloudWatch starts a
    new log event at every ``\\n`` written to the log, and a traceback split across a dozen
    events is unreadable and unsearchable. One record, one event.
    """
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    if document["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        for entry in document["stackTrace"]:
            lines.extend(entry.splitlines())
    sys.stderr.write("\r".join(lines) + "\n")
    sys.stderr.flush()
