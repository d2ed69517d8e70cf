"""The dashboard in a real browser: headless Chromium signs in, opens each page, watches the
live tail and redrives a dead letter; screenshots are kept as test artifacts.

Needs Playwright (PyPI, in the test extra) and a Chromium (Debian's ``chromium``, which
``.ci/run`` installs); skipped, saying why, on a machine without them. ``STRUM_TEST_ARTIFACTS`` names where screenshots go
(default: the test's temporary directory).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.platform.conftest import RunningPlatform
from tests.platform.packages import create_function

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")


def test_a_browser_signs_in_and_sees_each_page(platform: RunningPlatform, tmp_path: Path) -> None:
    artifacts = Path(os.environ.get("STRUM_TEST_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    client = platform.client()
    create_function(client, "web", Environment={"Variables": {"API_TOKEN": "tok_123456"}})
    client.put_function_event_invoke_config(FunctionName="web", MaximumRetryAttempts=0)
    for _ in range(3):
        client.invoke(FunctionName="web", Payload=b'{"print": "hello browser"}')
    failed = client.invoke(FunctionName="web", InvocationType="Event", Payload=b'{"fail": 1}')
    request_id = failed["ResponseMetadata"]["RequestId"]
    owner = platform.owner
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            broken: list[str] = []
            page.on("pageerror", lambda error: broken.append(str(error)))
            page.goto(platform.endpoint + "/strum/")
            assert "/strum/sign-in" in page.url
            page.fill("#key", owner.access_key_id)
            page.fill("#secret", owner.secret)
            page.click("button[type=submit]")
            page.wait_for_url("**/strum/")
            row = page.locator("tr", has_text="web")
            assert "python3.11" in row.inner_text()
            page.screenshot(path=str(artifacts / "functions.png"), full_page=True)

            page.click("text=web")
            page.wait_for_selector("#charts .uplot")
            assert page.locator("#charts .uplot").count() == 3
            assert "tok_123456" not in page.content()
            page.screenshot(path=str(artifacts / "function.png"), full_page=True)

            page.click("text=Logs (live)")
            assert page.locator("tr.report").count() >= 3
            client.invoke(FunctionName="web", Payload=b'{"print": "arrived live"}')
            page.wait_for_selector("text=arrived live")
            page.screenshot(path=str(artifacts / "logs.png"), full_page=True)

            page.goto(platform.endpoint + "/strum/instances")
            assert "web" in page.inner_text("table")

            queue = platform.platform.asyncq
            page.goto(platform.endpoint + "/strum/async")
            deadline = time.monotonic() + 30
            while request_id not in page.content():  # the letter lands once its try failed
                assert time.monotonic() < deadline, "no dead letter appeared"
                page.wait_for_timeout(100)
                page.reload()
            page.screenshot(path=str(artifacts / "async.png"), full_page=True)
            page.locator("tr", has_text=request_id).locator("button.discard").click()
            page.wait_for_selector("text=discarded 1 dead letter")
            assert queue.dead_letters("web") == []
            assert broken == []
        finally:
            browser.close()
