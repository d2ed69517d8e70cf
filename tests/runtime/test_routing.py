"""The entry router: real events to the app, tasks, schedules and consumers."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from strum.errors import InvalidEvent, UnsupportedEvent
from strum.runtime.routing import ManifestError, Router, load_manifest
from tests.conftest import load_event

PROJECT = """
from strum import task

calls = []

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from " + environ["PATH_INFO"].encode()]

@task
def send_email(to, subject="hi"):
    calls.append(("send_email", to, subject))
    return f"sent to {to}"

def not_a_task():
    calls.append("not_a_task")

def cleanup(event, context):
    calls.append(("cleanup", event["detail-type"]))
    return "cleaned"

def report(event, context):
    calls.append(("report", event["resources"]))

def consume(event, context):
    calls.append(("consume", len(event["Records"])))
    return {"consumed": len(event["Records"])}

def each(record, context):
    body = record.get("body") or ""
    if "fail" in body:
        raise ValueError("bad record")
    calls.append(("each", body))

def on_event(event, context):
    calls.append(("eventbridge", event["detail-type"]))
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    name = f"proj_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PROJECT))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def make_router(project, **manifest):
    base = {"version": 1, "app": f"{project}:app"}
    base.update(manifest)
    return Router(base)


def calls(project):
    return sys.modules[project].calls


def test_http_events_reach_the_app(project):
    router = make_router(project)
    response = router.handle(load_event("http-v2-get"), None)
    assert response["statusCode"] == 200
    assert response["body"] == "hello from /search"


def test_app_is_imported_at_init_not_on_first_request(project):
    make_router(project)
    assert project in sys.modules


def test_tasks_run_by_name_only_when_decorated(project):
    router = make_router(project)
    result = router.handle(
        {"strum": "task", "task": f"{project}:send_email", "args": ["a@b"], "kwargs": {}}, None
    )
    assert result == "sent to a@b"
    with pytest.raises(InvalidEvent, match="not decorated with @task"):
        router.handle({"strum": "task", "task": f"{project}:not_a_task"}, None)
    with pytest.raises(InvalidEvent, match="needs 'task'"):
        router.handle({"strum": "task", "task": f"{project}:send_email", "args": "x"}, None)
    assert calls(project) == [("send_email", "a@b", "hi")]


def test_scheduled_events_reach_the_matching_schedule(project):
    router = make_router(
        project,
        schedules={
            "nightly": {"function": f"{project}:cleanup", "expression": "cron(0 3 * * ? *)"},
            "weekly": {"function": f"{project}:report", "expression": "rate(7 days)"},
        },
    )
    event = load_event("eventbridge-scheduled")
    event["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/myapp-prod-nightly"]
    assert router.handle(event, None) == "cleaned"
    event["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/unknown"]
    with pytest.raises(UnsupportedEvent, match="nightly, weekly"):
        router.handle(event, None)


def test_whole_batch_consumers_get_the_event(project):
    router = make_router(project, events=[{"source": "sqs", "function": f"{project}:consume"}])
    event = load_event("sqs")
    assert router.handle(event, None) == {"consumed": len(event["Records"])}


def test_sqs_per_record_consumers_report_partial_batch_failures(project):
    router = make_router(
        project, events=[{"source": "sqs", "function": f"{project}:each", "batch": "record"}]
    )
    event = load_event("sqs")
    first, second = event["Records"][0], dict(event["Records"][0])
    second["messageId"] = "failing-message"
    second["body"] = "please fail"
    event["Records"] = [first, second]
    assert router.handle(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "failing-message"}]
    }
    assert ("each", first["body"]) in calls(project)


def test_consumers_are_matched_by_source_arn(project):
    event = load_event("sqs")
    arn = event["Records"][0]["eventSourceARN"]
    router = make_router(
        project,
        events=[
            {"source": "sqs", "function": f"{project}:each", "arn": "arn:aws:sqs:xx:1:other"},
            {"source": "sqs", "function": f"{project}:consume", "arn": arn},
        ],
    )
    assert "consumed" in router.handle(event, None)


def test_s3_consumers_are_matched_by_the_bucket_arn_inside_the_record(project):
    # S3 records have no eventSourceARN; on AWS every S3 consumer names its bucket.
    router = make_router(
        project,
        events=[
            {"source": "s3", "function": f"{project}:each", "arn": "arn:aws:s3:::other"},
            {"source": "s3", "function": f"{project}:consume", "arn": "arn:aws:s3:::strum-uploads"},
        ],
    )
    assert "consumed" in router.handle(load_event("s3-put"), None)


@pytest.mark.parametrize("name", ["sns", "s3-put", "dynamodb-stream", "kinesis"])
def test_unconfigured_sources_fail_naming_what_is_configured(project, name):
    router = make_router(project, events=[{"source": "sqs", "function": f"{project}:consume"}])
    with pytest.raises(UnsupportedEvent, match=r"configured: app .*sqs consumer"):
        router.handle(load_event(name), None)


def test_other_eventbridge_events_reach_the_eventbridge_consumer(project):
    router = make_router(
        project, events=[{"source": "eventbridge", "function": f"{project}:on_event"}]
    )
    event = {"source": "my.app", "detail-type": "OrderPlaced", "detail": {}, "resources": []}
    router.handle(event, None)
    assert calls(project) == [("eventbridge", "OrderPlaced")]


def test_function_without_app_rejects_http_clearly(project):
    router = Router({"version": 1})
    with pytest.raises(UnsupportedEvent, match="nothing here handles"):
        router.handle({"hello": "world"}, None)


def test_bad_references_name_the_problem(project):
    with pytest.raises(ManifestError, match="has no attribute 'nope'"):
        Router({"version": 1, "app": f"{project}:nope"})
    with pytest.raises(ManifestError, match="'module:attribute'"):
        Router({"version": 1, "app": project})


def test_manifest_loading(tmp_path):
    with pytest.raises(ManifestError, match=r"no strum_manifest\.json"):
        load_manifest({"LAMBDA_TASK_ROOT": str(tmp_path)})
    (tmp_path / "strum_manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest({"LAMBDA_TASK_ROOT": str(tmp_path)})
    (tmp_path / "strum_manifest.json").write_text(json.dumps({"version": 1, "app": "x:y"}))
    assert load_manifest({"LAMBDA_TASK_ROOT": str(tmp_path)})["app"] == "x:y"


def test_django_manage_returns_command_output(project, monkeypatch):
    import tests.adapter.apps.django_app  # noqa: F401  (configures settings)

    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.adapter.apps.django_app")
    router = Router({"version": 1})
    result = router.handle({"strum": "manage", "args": ["check"]}, None)
    assert result["exit_code"] == 0
    assert "System check identified no issues" in result["output"]
    result = router.handle({"strum": "manage", "args": ["nosuchcommand"]}, None)
    assert result["exit_code"] == 1
    assert "Unknown command" in result["errors"]
    # What the command prints itself is output too, not a line in the function's log.
    result = router.handle({"strum": "manage", "args": ["shell", "-c", "print(1)"]}, None)
    assert result["output"].endswith("\n1\n") and result["exit_code"] == 0
