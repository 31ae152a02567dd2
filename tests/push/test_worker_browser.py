"""The push worker and the page script in Chromium, served by a tiny Flask app of the test's own
with the site's security headers (so the Content-Security-Policy is the real one): the worker
registers for the whole site, a delivered push shows its notification, a click leads only to
this site, and the grant form posts the subscription with the CSRF header before it submits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, Response, request, send_from_directory

from app.outbound.webpush import b64url
from app.web.security import HEADERS
from tests.browser import (
    CHROMIUM,
    REPO,
    WATCH_SCRIPT,
    LiveServer,
    PageProblems,
    csp_violations,
)
from tests.helpers import listening_socket
from tests.push.browser import (
    click_target,
    deliver_push,
    grant_notifications,
    install_worker,
    notifications,
    service_worker,
)

pytestmark = pytest.mark.browser

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page  # noqa: E402

STATIC = REPO / "app" / "static"


def _point() -> bytes:
    """A fresh P-256 public key as the 65-byte uncompressed point Web Push uses."""
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


CSRF = "csrf-token-of-the-test"
VAPID_KEY = b64url(_point())
FORM_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Push grant</title></head>
<body>
<form method="post" action="/grant" data-push-form data-vapid-key="{VAPID_KEY}"
      data-subscribe-url="/me/push/subscriptions" data-worker-url="/push-worker.js">
  <input type="hidden" name="csrf_token" value="{CSRF}">
  <button type="submit" name="answer" value="yes">Yes, notify me</button>
</form>
<script src="/static/push.js"></script>
</body></html>
"""
# The one control of a scope on the permissions page: a switch per channel, one save.
SWITCHES_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your permissions</title></head>
<body>
<form method="post" action="/grant" class="consent-choices" data-push-form
      data-vapid-key="{key}" data-subscribe-url="/me/push/subscriptions"
      data-worker-url="/push-worker.js">
  <input type="hidden" name="csrf_token" value="{csrf}">
  <label><input type="checkbox" role="switch" name="channel" value="email"> Email</label>
  <label><input type="checkbox" role="switch" name="channel" value="push"{push}>
    Browser notifications</label>
  <button type="submit">Save my choices</button>
</form>
<script src="/static/push.js"></script>
</body></html>
"""
SUBSCRIPTION = {
    "endpoint": "https://push.example/wpush/v2/abc",
    "expirationTime": None,
    "keys": {
        "p256dh": b64url(_point()),
        "auth": b64url(os.urandom(16)),
    },
}


@dataclass
class Site:
    """What the tiny site received, in order: ("subscription", json, csrf header) and
    ("grant", form fields)."""

    received: list[tuple[Any, ...]] = field(default_factory=list)
    #: The status the subscription route answers (201, or a refusal a test chooses).
    subscribe_status: int = 201
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, *entry: Any) -> None:
        with self.lock:
            self.received.append(entry)


def make_app(site: Site) -> Flask:
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")

    @app.get("/")
    def home() -> str:
        return "<!doctype html><title>Home</title><p>Home</p>"

    @app.get("/join")
    def join() -> str:
        return FORM_PAGE

    @app.get("/switches/<state>")
    def switches(state: str) -> str:
        push = " checked" if state == "on" else ""
        return SWITCHES_PAGE.format(key=VAPID_KEY, csrf=CSRF, push=push)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml")

    @app.get("/read/<name>")
    def read(name: str) -> str:
        return f"<!doctype html><title>{name}</title><p>{name}</p>"

    @app.get("/push-worker.js")
    def worker() -> Response:
        response = send_from_directory(STATIC, "push-worker.js", mimetype="text/javascript")
        response.headers["Service-Worker-Allowed"] = "/"
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.post("/me/push/subscriptions")
    def subscriptions() -> tuple[str, int]:
        site.record("subscription", request.get_json(), request.headers.get("X-CSRFToken"))
        return "", site.subscribe_status

    @app.post("/grant")
    def grant() -> str:
        form = request.form.to_dict()
        if "channel" in request.form:
            form["channel"] = ",".join(request.form.getlist("channel"))
        site.record("grant", form)
        return "<!doctype html><title>Granted</title><p>Granted</p>"

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


@dataclass
class Served:
    url: str
    site: Site


@pytest.fixture
def served() -> Iterator[Served]:
    site = Site()
    listener = listening_socket()
    server = LiveServer(make_app(site), listener)
    server.start()
    yield Served(server.url, site)
    server.stop()
    listener.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(
    browser: Browser,
    served: Served,
    problems: PageProblems,
) -> Iterator[Page]:
    """A fresh context on the tiny site with notifications granted; fails the test on any
    console error, uncaught exception, dialog or CSP violation (see ``problems``)."""
    assert CHROMIUM
    context = browser.new_context(base_url=served.url)
    context.add_init_script(WATCH_SCRIPT)
    grant_notifications(context, served.url)
    opened = context.new_page()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.page_error)
    opened.on("dialog", problems.dialog)
    opened.set_default_timeout(10_000)
    yield opened
    violations = csp_violations(opened) if not opened.is_closed() else []
    context.close()
    assert not violations, violations
    assert not problems.dialogs, problems.dialogs
    assert not problems.errors, problems.errors


def test_worker_registers_for_the_whole_site(page: Page, served: Served) -> None:
    page.goto("/join")
    install_worker(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == served.url + "/"
    assert service_worker(page).url == served.url + "/push-worker.js"


def test_delivered_push_shows_the_notification(page: Page, served: Served) -> None:
    page.goto("/join")
    install_worker(page)
    shown = deliver_push(
        page,
        {
            "title": "New: the spring letter",
            "body": "Three pieces worth your time.",
            "url": served.url + "/read/spring",
            "tag": "letter-7",
        },
    )
    assert shown == [
        {
            "title": "New: the spring letter",
            "body": "Three pieces worth your time.",
            "tag": "letter-7",
            "data": {"url": served.url + "/read/spring"},
        }
    ]


def test_same_tag_replaces_the_notification(page: Page, served: Served) -> None:
    page.goto("/join")
    install_worker(page)
    deliver_push(page, {"title": "One", "body": "", "url": "/", "tag": "t"})
    shown = deliver_push(page, {"title": "Two", "body": "", "url": "/", "tag": "t"})
    assert [n["title"] for n in shown] == ["Two"]


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", '{"title": 42}'])
def test_broken_payload_shows_a_plain_notice(page: Page, payload: str) -> None:
    page.goto("/join")
    install_worker(page)
    shown = deliver_push(page, payload)
    assert [(n["title"], n["body"], n["data"]) for n in shown] == [("Pullfirst", "", {"url": "/"})]


def test_click_target_stays_on_the_site(page: Page, served: Served) -> None:
    page.goto("/join")
    install_worker(page)
    cases = {
        "own": (served.url + "/read/spring?x=1", served.url + "/read/spring?x=1"),
        "relative": ("/read/autumn", served.url + "/read/autumn"),
        "foreign": ("https://evil.example/read/spring", "/"),
        "other-port": ("http://127.0.0.1:1/read/spring", "/"),
        "script": ("javascript:alert(1)", "/"),
        "protocol-relative": ("//evil.example/x", "/"),
    }
    for tag, (url, _) in cases.items():
        deliver_push(page, {"title": tag, "body": "", "url": url, "tag": tag})
    assert {tag for tag in cases} <= {n["tag"] for n in notifications(page)}
    for tag, (_, expected) in cases.items():
        assert click_target(page, tag) == expected, tag


def test_form_posts_subscription_before_it_submits(page: Page, served: Served) -> None:
    page.goto("/join")
    page.evaluate("(s) => { window.__pullfirstPushSubscription = s; }", SUBSCRIPTION)
    with page.expect_navigation(url=served.url + "/grant"):
        page.get_by_role("button", name="Yes, notify me").click()
    assert page.text_content("p") == "Granted"
    assert served.site.received == [
        ("subscription", SUBSCRIPTION, CSRF),
        ("grant", {"csrf_token": CSRF, "answer": "yes"}),
    ]
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == served.url + "/"


def test_form_submits_when_notifications_are_refused(
    browser: Browser,
    served: Served,
) -> None:
    context = browser.new_context(base_url=served.url)
    try:
        opened = context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        opened.goto("/join")
        # Permission not granted: headless Chromium answers the prompt with "denied".
        with opened.expect_navigation(url=served.url + "/grant"):
            opened.get_by_role("button", name="Yes, notify me").click()
        assert served.site.received == [("grant", {"csrf_token": CSRF, "answer": "yes"})]
        assert not errors
    finally:
        context.close()


def test_form_submits_when_the_subscription_is_refused(
    page: Page, served: Served, problems: PageProblems
) -> None:
    served.site.subscribe_status = 400
    page.goto("/join")
    page.evaluate("(s) => { window.__pullfirstPushSubscription = s; }", SUBSCRIPTION)
    with page.expect_navigation(url=served.url + "/grant"):
        page.get_by_role("button", name="Yes, notify me").click()
    assert [entry[0] for entry in served.site.received] == ["subscription", "grant"]
    expected = "console: Failed to load resource: the server responded with a status of 400"
    assert [e for e in problems.errors if e.startswith(expected)] == [problems.errors[0]]
    problems.errors.clear()


def test_form_submits_when_sign_up_fails_at_once(page: Page, served: Served) -> None:
    page.goto("/join")
    # A subscription that cannot be serialised makes the sign-up fail without waiting for
    # anything: the form must still be submitted, once.
    page.evaluate("() => { const s = {}; s.self = s; window.__pullfirstPushSubscription = s; }")
    with page.expect_navigation(url=served.url + "/grant"):
        page.get_by_role("button", name="Yes, notify me").click()
    assert served.site.received == [("grant", {"csrf_token": CSRF, "answer": "yes"})]


def test_switching_browser_notifications_on_subscribes_before_the_save(
    page: Page, served: Served
) -> None:
    page.goto("/switches/off")
    page.evaluate("(s) => { window.__pullfirstPushSubscription = s; }", SUBSCRIPTION)
    page.get_by_role("switch", name="Browser notifications").check()
    with page.expect_navigation(url=served.url + "/grant"):
        page.get_by_role("button", name="Save my choices").click()
    assert served.site.received == [
        ("subscription", SUBSCRIPTION, CSRF),
        ("grant", {"csrf_token": CSRF, "channel": "push"}),
    ]


@pytest.mark.parametrize(
    ("state", "channels"),
    [("off", "email"), ("on", "email,push")],
    ids=["push left off", "push on already"],
)
def test_a_save_that_does_not_turn_notifications_on_asks_the_browser_nothing(
    page: Page, served: Served, state: str, channels: str
) -> None:
    page.goto(f"/switches/{state}")
    page.evaluate("(s) => { window.__pullfirstPushSubscription = s; }", SUBSCRIPTION)
    page.get_by_role("switch", name="Email").check()
    with page.expect_navigation(url=served.url + "/grant"):
        page.get_by_role("button", name="Save my choices").click()
    assert served.site.received == [("grant", {"csrf_token": CSRF, "channel": channels})]
