"""The dashboard's pages show what boto3 reports, and its buttons do what they say."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse

import pytest

from tests.platform.conftest import RunningPlatform
from tests.platform.dashboard.conftest import Browser
from tests.platform.packages import create_function


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def deployed(platform: RunningPlatform) -> str:
    client = platform.client()
    create_function(
        client,
        "shop",
        MemorySize=256,
        Timeout=7,
        Environment={"Variables": {"GREETING": "hi", "STRIPE_SECRET_KEY": "sk_live_abc123"}},
    )
    client.publish_version(FunctionName="shop")
    client.update_function_code(FunctionName="shop", ZipFile=_zip("two"))
    client.publish_version(FunctionName="shop")
    client.create_alias(
        FunctionName="shop",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
    )
    client.create_function_url_config(FunctionName="shop", Qualifier="live", AuthType="NONE")
    for _ in range(3):
        client.invoke(FunctionName="shop", Payload=b'{"print": "hello from shop"}')
    client.invoke(FunctionName="shop", Payload=b'{"fail": true}')
    return "shop"


def _zip(mark: str) -> bytes:
    from tests.platform.packages import handler_zip

    return handler_zip(mark)


def test_the_functions_page_shows_what_boto3_reports(
    platform: RunningPlatform, signed_in: Browser, deployed: str
) -> None:
    client = platform.client()
    url = client.get_function_url_config(FunctionName="shop", Qualifier="live")["FunctionUrl"]
    configuration = client.get_function(FunctionName="shop")["Configuration"]
    page = signed_in.get("/strum/")
    assert page.status == 200
    text = page.text
    assert '<a href="/strum/functions/shop">shop</a>' in text
    assert configuration["Runtime"] in text
    assert "live → 2 + 1 (25.0 %)" in text
    assert f'<a href="{url}"' in text
    assert "256 MB" in text and "7 s" in text
    assert configuration["LastModified"] in text
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_first_page_is_small_and_fast(signed_in: Browser, deployed: str) -> None:
    signed_in.get("/strum/")  # templates compiled once
    started = time.perf_counter()
    page = signed_in.get("/strum/")
    elapsed = time.perf_counter() - started
    css = signed_in.get("/strum/static/dashboard.css")
    assert len(page.body) + len(css.body) < 100_000
    assert elapsed < 0.1, f"{elapsed * 1000:.1f} ms"


def test_the_function_page_shows_versions_aliases_and_a_masked_environment(
    platform: RunningPlatform, signed_in: Browser, deployed: str
) -> None:
    client = platform.client()
    page = signed_in.get("/strum/functions/shop")
    assert page.status == 200
    text = page.text
    assert "sk_live_abc123" not in text
    assert "<th>STRIPE_SECRET_KEY</th><td><code>***</code></td>" in text
    assert "<th>GREETING</th><td><code>hi</code></td>" in text
    versions = client.list_versions_by_function(FunctionName="shop")["Versions"]
    for version in versions:
        assert f"<td>{version['Version']}</td>" in text
    assert "1: 25.0 %" in text
    assert "uPlot.iife.min.js" in text
    assert signed_in.get("/strum/functions/nope").status == 404


def test_the_metrics_count_invocations_errors_and_cold_starts(
    signed_in: Browser, deployed: str
) -> None:
    page = signed_in.get("/strum/functions/shop/metrics?minutes=15")
    series = json.loads(page.body)
    assert len(series["time"]) == 15
    assert sum(series["invocations"]) == 4
    assert sum(series["errors"]) == 1
    assert sum(series["cold_starts"]) == 1
    assert any(value is not None for value in series["p99"])
    assert (
        len(json.loads(signed_in.get("/strum/functions/shop/metrics?minutes=1440").body)["time"])
        == 1440
    )


def test_throttles_are_counted(platform: RunningPlatform, signed_in: Browser) -> None:
    client = platform.client()
    create_function(client, "tight")
    client.put_function_concurrency(FunctionName="tight", ReservedConcurrentExecutions=0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName="tight", Payload=b"{}")
    series = json.loads(signed_in.get("/strum/functions/tight/metrics?minutes=15").body)
    # Each 429 the client got (botocore retries once) is one throttle.
    assert sum(series["throttles"]) >= 1


def test_the_logs_page_shows_report_lines_with_their_numbers(
    signed_in: Browser, deployed: str
) -> None:
    page = signed_in.get("/strum/functions/shop/logs")
    text = page.text
    assert "hello from shop" in text
    assert '<tr class="report">' in text
    assert " ms</td>" in text and " MB</td>" in text
    filtered = signed_in.get("/strum/functions/shop/logs?filter=asked+to+fail").text
    assert "asked to fail" in filtered and "hello from shop" not in filtered


def test_the_live_tail_streams_new_lines(
    platform: RunningPlatform, signed_in: Browser, deployed: str
) -> None:
    cookie = next(iter(signed_in.jar)).value
    host, port = urllib.parse.urlsplit(platform.endpoint).netloc.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"GET /strum/functions/shop/logs/live HTTP/1.1\r\nHost: %s\r\n"
            b"Cookie: strum_session=%s\r\nAccept: text/event-stream\r\n\r\n"
            % (f"{host}:{port}".encode(), cookie.encode())
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        assert received.startswith(b"HTTP/1.1 200")
        assert b"text/event-stream" in received
        platform.client().invoke(FunctionName="shop", Payload=b'{"print": "streamed line"}')
        while b"streamed line" not in received:
            chunk = sock.recv(65536)
            assert chunk, "the stream ended"
            received += chunk
    assert b"data: {" in received


def test_instances_show_the_engines_status(signed_in: Browser, deployed: str) -> None:
    text = signed_in.get("/strum/instances").text
    assert '<a href="/strum/functions/shop">shop</a>' in text
    assert "cold starts" in text
    # Each instance with its peak memory against the function's memory size.
    assert "of 256 MB</td>" in text
    assert "<td>idle</td>" in text
    # This platform runs unsandboxed: cold starts say why they do not fork templates.
    assert "<h2>Templates</h2>" in text
    assert "Cold starts start a new interpreter each: " in text


def test_the_async_page_lists_durable_executions(
    platform: RunningPlatform, signed_in: Browser
) -> None:
    from tests.platform.api.durable_support import callback_execution

    arn, _ = callback_execution(platform.client())
    text = signed_in.get("/strum/async").text
    assert "<title>Async · strum</title>" in text
    assert text.count("<h2>Durable executions</h2>") == 1
    row = text[text.index("<h2>Durable executions</h2>") :]
    # The ARN ends .../durable-execution/<execution name>/<id>.
    assert f"<code>{arn.rsplit('/', 2)[1]}</code></td><td>RUNNING</td>" in row, row[:2000]


def test_a_dead_letter_is_redriven_from_its_button(
    platform: RunningPlatform, signed_in: Browser
) -> None:
    client = platform.client()
    create_function(client, "flaky")
    client.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=0)
    queue = platform.platform.asyncq
    first = client.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"fail": true}')
    first_id = first["ResponseMetadata"]["RequestId"]
    wait_for(lambda: queue.dead_letters("flaky"), what="the dead letter")
    page = signed_in.get("/strum/async")
    assert first_id in page.text
    assert "Redrive" in page.text and "Discard" in page.text
    csrf = page.csrf()
    moved = signed_in.post(
        "/strum/functions/flaky/dead-letters/redrive", {"csrf": csrf, "request_id": first_id}
    )
    assert moved.status == 303
    assert "queued 1 dead letter" in urllib.parse.unquote(moved.headers["Location"])
    # Redriven, it fails again (no retries) and comes back as a dead letter once more.
    wait_for(
        lambda: [d for d in queue.dead_letters("flaky") if d["request_id"] == first_id],
        what="the redriven letter to fail again",
    )
    gone = signed_in.post(
        "/strum/functions/flaky/dead-letters/discard", {"csrf": csrf, "request_id": first_id}
    )
    assert gone.status == 303
    assert queue.dead_letters("flaky") == []
