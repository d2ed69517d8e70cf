"""A real platform for the dashboard's tests, and a small cookie-keeping browser (urllib)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.platform.conftest import RunningPlatform, start_platform


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def csrf(self) -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert match, self.text
        return match.group(1)


class Browser:
    """Keeps cookies, follows no redirects, never raises for an HTTP status."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(
        self,
        path: str,
        *,
        form: dict[str, str] | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            self.endpoint + path, data=data, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return Page(
                    response.status,
                    dict(response.headers),
                    response.read(),
                    response.headers.get_all("Set-Cookie") or [],
                )
        except urllib.error.HTTPError as error:
            with error:
                return Page(
                    error.code,
                    dict(error.headers),
                    error.read(),
                    error.headers.get_all("Set-Cookie") or [],
                )

    def get(self, path: str, **options) -> Page:  # type: ignore[no-untyped-def]
        return self.request(path, **options)

    def post(self, path: str, form: dict[str, str], **options) -> Page:  # type: ignore[no-untyped-def]
        return self.request(path, form=form, **options)

    def sign_in(self, key_id: str, secret: str) -> Page:
        return self.post("/strum/sign-in", {"access_key_id": key_id, "secret": secret})


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(Path(tmp_path_factory.mktemp("strum-home")))
    yield running
    running.stop()


@pytest.fixture
def browser(platform: RunningPlatform) -> Browser:
    return Browser(platform.endpoint)


@pytest.fixture
def signed_in(platform: RunningPlatform) -> Browser:
    browser = Browser(platform.endpoint)
    owner = platform.owner
    page = browser.sign_in(owner.access_key_id, owner.secret)
    assert page.status == 303, page.text
    return browser
