"""Routing events to the app, tasks, schedules and consumers (see ``strum.runtime.entry``).

Kept apart from ``entry`` so it can be built from any manifest in tests; ``entry`` is the
one place that builds it from the function's own package at import time.
"""

from __future__ import annotations

import os
import sys

from strum.errors import InvalidEvent, StrumError, UnsupportedEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

MANIFEST_NAME = "strum_manifest.json"
RECORD_SOURCES = {
    "aws:sqs": "sqs",
    "aws:sns": "sns",
    "aws:s3": "s3",
    "aws:dynamodb": "dynamodb",
    "aws:kinesis": "kinesis",
}


class ManifestError(StrumError):
    """The package's manifest is missing, unreadable or names something that is not there."""


def load_manifest(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read the manifest from ``$STRUM_MANIFEST`` or the task root (``$LAMBDA_TASK_ROOT``)."""
    import json

    path = environ.get("STRUM_MANIFEST") or os.path.join(
        environ.get("LAMBDA_TASK_ROOT") or os.getcwd(), MANIFEST_NAME
    )
    try:
        with open(path, encoding="utf-8") as file:
            manifest = json.load(file)
    except FileNotFoundError:
        raise ManifestError(
            f"no {MANIFEST_NAME} at {path}: strum.runtime.entry serves packages built by "
            "`strum package` / `strum deploy`; for a hand-made package point the handler at "
            "your own function, or set STRUM_MANIFEST"
        ) from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read the manifest {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("version") != 1:
        raise ManifestError(f"{path} is not a version 1 strum manifest; rebuild the package")
    return manifest


def resolve(reference: str, what: str) -> Any:
    """Import ``"module:attribute.path"`` and return the object."""
    import importlib

    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ManifestError(f"{what} {reference!r} should look like 'module:attribute'")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ManifestError(
                f"{what} {reference!r}: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    return target


class Router:
    """Routes one function's events according to its manifest."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest
        self.http: Any = None
        self.stream = bool(manifest.get("stream"))
        settings = manifest.get("django_settings")
        if settings:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
        app_reference = manifest.get("app")
        if app_reference or settings:
            from strum.adapter import make_handler

            if app_reference:
                app = resolve(app_reference, "app")
            else:
                from django.core.wsgi import get_wsgi_application

                app = get_wsgi_application()
            self.http = make_handler(
                app,
                base_path=manifest.get("base_path"),
                text_mime_types=manifest.get("text_mime_types") or (),
                lifespan=manifest.get("lifespan") or "auto",
            )
        self.schedules: dict[str, dict[str, Any]] = manifest.get("schedules") or {}
        self.consumers: list[dict[str, Any]] = manifest.get("events") or []
        self._functions: dict[str, Callable[..., Any]] = {}

    # -- routing -----------------------------------------------------------------------

    def handle(self, event: Any, context: Any) -> Any:
        """The Lambda handler: route ``event`` and return what its destination returns."""
        if isinstance(event, dict):
            kind = event.get("strum")
            if kind == "ping":
                return self._ping()
            if kind == "task":
                return self._run_task(event)
            if kind == "manage":
                return self._manage(event)
            if "detail-type" in event and "source" in event:
                if event.get("detail-type") == "Scheduled Event":
                    return self._run_schedule(event, context)
                return self._consume("eventbridge", None, event, context)
            records = event.get("Records")
            if isinstance(records, list) and records and isinstance(records[0], dict):
                origin = records[0].get("eventSource") or records[0].get("EventSource")
                source = RECORD_SOURCES.get(origin or "")
                if source:
                    first = records[0]
                    # S3 records carry no source ARN of their own; the bucket's is inside.
                    bucket = (first.get("s3") or {}).get("bucket") or {}
                    arn = (
                        first.get("eventSourceARN")
                        or first.get("EventSubscriptionArn")
                        or bucket.get("arn")
                    )
                    return self._consume(source, arn, event, context)
        if self.http is not None:
            if self.stream and _streaming_available():
                from strum.adapter.sources import api_gateway_v2

                if isinstance(event, dict) and api_gateway_v2.is_payload_v2(event):
                    return self._stream_http(event, context)
            return self.http(event, context)
        raise UnsupportedEvent(self._nothing_configured(event))

    def _stream_http(self, event: dict[str, Any], context: Any) -> Any:
        import json

        from strum.runtime.streaming import StreamingResponse

        prelude, chunks = self.http.stream(event, context)
        head = json.dumps(prelude).encode("utf-8") + b"\0" * 8

        def body() -> Any:
            yield head
            yield from chunks

        return StreamingResponse("application/vnd.awslambda.http-integration-response", body())

    def _function(self, reference: str, what: str) -> Callable[..., Any]:
        function = self._functions.get(reference)
        if function is None:
            function = self._functions[reference] = resolve(reference, what)
        return function

    def _ping(self) -> dict[str, Any]:
        """A deploy's check that this version starts: init has run (the app is imported);
        the functions schedules and consumers name are imported too. No user code runs
        beyond imports, so it is safe on a live stage."""
        for name, schedule in self.schedules.items():
            self._function(schedule["function"], f"schedule {name!r}")
        for consumer in self.consumers:
            self._function(consumer["function"], f"consumer of {consumer.get('source')}")
        return {"strum": "pong"}

    def _run_task(self, event: dict[str, Any]) -> Any:
        name = event.get("task")
        args, kwargs = event.get("args", []), event.get("kwargs", {})
        if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
            raise InvalidEvent(
                "a task invocation needs 'task' (str), 'args' (list), 'kwargs' (dict)"
            )
        function = self._function(name, "task")
        if not getattr(function, "_strum_task", False):
            raise InvalidEvent(
                f"{name} is not decorated with @task, so it cannot be invoked as one"
            )
        return function(*args, **kwargs)

    def _run_schedule(self, event: dict[str, Any], context: Any) -> Any:
        name = self._schedule_for(event)
        return self._function(self.schedules[name]["function"], f"schedule {name!r}")(
            event, context
        )

    def _schedule_for(self, event: dict[str, Any]) -> str:
        # The rule ARN ends with the rule name; strum names rules "<prefix>-<schedule>".
        rules = [str(arn).rsplit("/", 1)[-1] for arn in event.get("resources") or ()]
        for name, schedule in self.schedules.items():
            for rule in rules:
                if rule == schedule.get("rule") or rule == name or rule.endswith(f"-{name}"):
                    return name
        if len(self.schedules) == 1 and not rules:
            return next(iter(self.schedules))
        configured = ", ".join(sorted(self.schedules)) or "none"
        raise UnsupportedEvent(
            f"a scheduled event from {rules or 'an unnamed rule'} matches no configured "
            f"schedule (configured: {configured})"
        )

    def _consume(self, source: str, arn: str | None, event: dict[str, Any], context: Any) -> Any:
        candidates = [c for c in self.consumers if c.get("source") == source]
        exact = [c for c in candidates if arn and c.get("arn") and arn.startswith(c["arn"])]
        chosen = exact or [c for c in candidates if not c.get("arn")]
        if not chosen:
            raise UnsupportedEvent(
                f"a {source} event{f' from {arn}' if arn else ''} arrived but no consumer is "
                f"configured for it; add one under [tool.strum.events]" + self._configured_suffix()
            )
        consumer = chosen[0]
        function = self._function(consumer["function"], f"{source} consumer")
        if consumer.get("batch") != "record" or source == "eventbridge":
            return function(event, context)
        return _per_record(source, function, event, context)

    def _manage(self, event: dict[str, Any]) -> dict[str, Any]:
        import io

        args = event.get("args")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args) or not args:
            raise InvalidEvent("a manage invocation needs 'args': a non-empty list of strings")
        if not os.environ.get("DJANGO_SETTINGS_MODULE"):
            raise UnsupportedEvent(
                "strum manage needs a Django project: set django_settings in the config"
            )
        import contextlib

        import django
        from django.core.management import CommandError, call_command

        django.setup()
        stdout, stderr = io.StringIO(), io.StringIO()
        exit_code = 0
        try:
            # What a command prints itself (``shell -c "print(1)"``, most third-party
            # commands) is its output too, not a line in the function's log.
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                call_command(*args, stdout=stdout, stderr=stderr)
        except CommandError as exc:
            stderr.write(f"CommandError: {exc}\n")
            exit_code = exc.returncode if hasattr(exc, "returncode") else 1
        except SystemExit as exc:
            exit_code = exc.code if isinstance(exc.code, int) else 1
        return {"output": stdout.getvalue(), "errors": stderr.getvalue(), "exit_code": exit_code}

    def _configured_suffix(self) -> str:
        parts = []
        if self.http is not None:
            parts.append(f"app {self.manifest.get('app') or self.manifest.get('django_settings')}")
        parts += [f"schedule {name}" for name in sorted(self.schedules)]
        parts += [f"{c.get('source')} consumer {c.get('function')}" for c in self.consumers]
        return f" (configured: {', '.join(parts) or 'nothing'})"

    def _nothing_configured(self, event: Any) -> str:
        from strum.adapter.sources import describe_event

        return f"this function received {describe_event(event)}, which nothing here handles" + (
            self._configured_suffix()
        )


def _per_record(
    source: str, function: Callable[..., Any], event: dict[str, Any], context: Any
) -> Any:
    """Call ``function(record, context)`` for each record, reporting partial failures.

    SQS, Kinesis and DynamoDB streams accept ``batchItemFailures`` (the event source
    mapping needs ``ReportBatchItemFailures``), so only failed records are retried. SNS and
    S3 have no such mechanism: after trying every record, the first error is re-raised.
    """
    import logging

    logger = logging.getLogger("strum.runtime")
    failures: list[dict[str, str]] = []
    first_error: BaseException | None = None
    for record in event["Records"]:
        try:
            function(record, context)
        except Exception as exc:
            logger.exception("%s record failed", source)
            first_error = first_error or exc
            identifier = _record_id(source, record)
            if identifier is not None:
                failures.append({"itemIdentifier": identifier})
    if source in ("sqs", "kinesis", "dynamodb"):
        return {"batchItemFailures": failures}
    if first_error is not None:
        raise first_error
    return None


def _record_id(source: str, record: dict[str, Any]) -> str | None:
    if source == "sqs":
        return record.get("messageId")
    if source == "kinesis":
        return (record.get("kinesis") or {}).get("sequenceNumber")
    if source == "dynamodb":
        return (record.get("dynamodb") or {}).get("SequenceNumber")
    return None


def _streaming_available() -> bool:
    # Only strum's runtime can send a StreamingResponse; AWS's Python runtime cannot stream.
    return "strum.runtime._bootstrap" in sys.modules
