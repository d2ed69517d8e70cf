"""Nothing of the dashboard is readable or doable without signing in: the attacks first.

Every dashboard route of the access table is tried without a cookie, with a forged one and
with an expired one; every POST without its CSRF token, from another origin and as a
cross-site fetch. A SigV4-signed request does not open a page, and a session cookie does
not open the API.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from strum.platform.api import OPERATIONS
from tests.platform.conftest import RunningPlatform
from tests.platform.dashboard.conftest import Browser
from tests.platform.packages import create_function

PAGES = sorted(
    (method, path.replace("{function}", "fn").replace("{file}", "dashboard.js"))
    for (method, path), operation in OPERATIONS.items()
    if operation.by_cookie
)
POSTS = [path for method, path in PAGES if method == "POST"]


@pytest.fixture(scope="module", autouse=True)
def function(platform: RunningPlatform) -> None:
    create_function(platform.client(), "fn", Environment={"Variables": {"DB_PASSWORD": "hunter2"}})


def refused(page, method: str) -> bool:  # type: ignore[no-untyped-def]
    """A GET is sent to sign in; a POST gets a 403 page; neither shows anything else."""
    if method == "GET":
        return page.status == 303 and page.headers["Location"].startswith("/strum/sign-in?next=")
    return page.status == 403 and "hunter2" not in page.text and "fn" not in page.text


def test_every_dashboard_route_is_in_the_table() -> None:
    assert ("GET", "/strum/") in PAGES
    assert len(POSTS) == 3


def test_strum_without_its_slash_leads_to_the_dashboard(browser: Browser) -> None:
    page = browser.get("/strum")
    assert page.status == 308 and page.headers["Location"] == "/strum/"
    assert refused(browser.get("/strum/"), "GET")


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_no_cookie_is_refused(browser: Browser, method: str, path: str) -> None:
    page = browser.request(path, method=method, form={} if method == "POST" else None)
    assert refused(page, method), (page.status, page.text[:300])


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_a_forged_cookie_is_refused(browser: Browser, method: str, path: str) -> None:
    headers = {"Cookie": "strum_session=" + "A" * 43}
    page = browser.request(
        path, method=method, form={} if method == "POST" else None, headers=headers
    )
    assert refused(page, method)


def test_an_expired_session_is_refused(platform: RunningPlatform, browser: Browser) -> None:
    sign_ins = platform.platform.sign_ins
    ttl, sign_ins.ttl_s = sign_ins.ttl_s, 0.2
    try:
        owner = platform.owner
        assert browser.sign_in(owner.access_key_id, owner.secret).status == 303
    finally:
        sign_ins.ttl_s = ttl
    deadline = time.monotonic() + 10
    while browser.get("/strum/").status == 200:
        assert time.monotonic() < deadline, "the session did not expire"
        time.sleep(0.05)
    assert refused(browser.get("/strum/functions/fn"), "GET")


def test_a_wrong_secret_signs_nobody_in(platform: RunningPlatform, browser: Browser) -> None:
    owner = platform.owner
    # The last character changed to one it is not (a secret may well end in "x").
    wrong = owner.secret[:-1] + ("y" if owner.secret.endswith("x") else "x")
    page = browser.sign_in(owner.access_key_id, wrong)
    assert page.status == 401
    assert page.cookies == []
    assert "do not match" in page.text
    assert browser.sign_in("AKIAUNKNOWNKEY000000", owner.secret).status == 401
    assert refused(browser.get("/strum/"), "GET")
    # Each attempt is in the audit log, with the key it claimed.
    audit = platform.platform.audit
    attempts = wait_for_entries(audit, "AKIAUNKNOWNKEY000000")
    assert attempts[-1].action == "strum:SignInToDashboard"
    assert attempts[-1].decision == "denied: InvalidCredentials"


def wait_for_entries(audit, key_id: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in audit.query() if e.access_key_id == key_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_the_cookie_is_httponly_samesite_strict_and_scoped(
    platform: RunningPlatform, browser: Browser
) -> None:
    owner = platform.owner
    page = browser.sign_in(owner.access_key_id, owner.secret)
    (cookie,) = page.cookies
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/strum/" in cookie
    assert "secure" not in attributes  # plain HTTP on loopback; TLS adds it (request.secure)
    assert int(cookie.split("Max-Age=")[1].split(";")[0]) <= 3600
    # No open redirect after signing in.
    page = browser.post(
        "/strum/sign-in",
        {"access_key_id": owner.access_key_id, "secret": owner.secret, "next": "//evil.test/"},
    )
    assert page.headers["Location"] == "/strum/"


@pytest.mark.parametrize("path", POSTS)
def test_a_post_without_the_csrf_token_is_refused(signed_in: Browser, path: str) -> None:
    assert signed_in.post(path, {"request_id": "x"}).status == 403
    assert signed_in.post(path, {"request_id": "x", "csrf": "wrong"}).status == 403
    assert signed_in.get("/strum/").status == 200  # still signed in: nothing happened


@pytest.mark.parametrize("path", POSTS)
def test_a_cross_site_post_is_refused_even_with_the_token(signed_in: Browser, path: str) -> None:
    csrf = signed_in.get("/strum/async").csrf()
    form = {"request_id": "x", "csrf": csrf}
    assert signed_in.post(path, form, headers={"Origin": "http://evil.test"}).status == 403
    assert signed_in.post(path, form, headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    assert signed_in.post(path, form, headers={"Sec-Fetch-Site": "same-site"}).status == 403


def test_a_cross_site_sign_in_is_refused(platform: RunningPlatform, browser: Browser) -> None:
    owner = platform.owner
    page = browser.post(
        "/strum/sign-in",
        {"access_key_id": owner.access_key_id, "secret": owner.secret},
        headers={"Origin": "http://evil.test"},
    )
    assert page.status == 403 and page.cookies == []


def test_a_signature_opens_no_page_and_a_cookie_opens_no_api(
    platform: RunningPlatform, signed_in: Browser
) -> None:
    signed = platform.request("/strum/")
    opener = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(signed, timeout=30)
    assert caught.value.code == 303
    caught.value.close()
    # The browser's cookie on an API route: unsigned, so refused.
    api = signed_in.get("/2015-03-31/functions/")
    assert api.status == 403
    assert json.loads(api.body)["Type"] == "User"


def test_a_key_without_the_pages_action_sees_nothing(platform: RunningPlatform) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}],
    }
    key = platform.platform.keys.create("invoker", json.dumps(policy))
    browser = Browser(platform.endpoint)
    assert browser.sign_in(key.access_key_id, key.secret).status == 303
    page = browser.get("/strum/functions/fn")
    assert page.status == 403
    assert "lambda:GetFunction" in page.text and "hunter2" not in page.text
    # Revoking the key ends its session.
    platform.platform.keys.revoke("invoker")
    assert refused(browser.get("/strum/"), "GET")


def test_sign_out_ends_the_session(signed_in: Browser) -> None:
    csrf = signed_in.get("/strum/").csrf()
    cookie = next(iter(signed_in.jar)).value
    page = signed_in.post("/strum/sign-out", {"csrf": csrf})
    assert page.status == 303
    replay = Browser(signed_in.endpoint)
    assert refused(replay.get("/strum/", headers={"Cookie": f"strum_session={cookie}"}), "GET")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_under_tls_the_cookie_is_secure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl

    from tests.platform.conftest import start_platform

    running = start_platform(tmp_path / "home", host="127.0.0.2", tls_names=("127.0.0.2",))
    try:
        owner = running.owner
        context = ssl.create_default_context(cafile=str(running.platform.tls.certificate))
        form = {"access_key_id": owner.access_key_id, "secret": owner.secret}
        request = urllib.request.Request(
            running.endpoint + "/strum/sign-in", data=urllib.parse.urlencode(form).encode()
        )
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(request, timeout=30)
        with caught.value as response:
            assert response.code == 303
            cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        running.stop()
