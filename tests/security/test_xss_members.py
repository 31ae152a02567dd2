"""XSS through what members write, besides the display names of ``test_xss_names``: survey text
answers (the marketer's results page, and the form that keeps a visitor's answers while they
sign in), webhook endpoint addresses (the permissions page, the form's error and the flash
after adding one), display names on the staff screens, and every query parameter that a page
shows back (search, sign-in, subscribe, redeem).

Each payload is rendered in Chromium under the real CSP, many to a page, and must show as the
text that was typed (:mod:`tests.security.inert` counts executions and live markup). Where a
page shows one value per request (a form's error, a reflected parameter), every payload is also
checked alone over the test client (except the search, whose every query runs the index: the
browser covers it), and the browser gets them joined 50 to a request.

A new member-written field adds one entry to the lists below (or one test, when it needs a page
of its own, as the notifier's replies and campaign bodies do in ``test_xss_notify``).
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import update

from app.accounts import members
from app.accounts.members import MAX_DISPLAY_NAME
from app.accounts.models import Member
from app.consent.models import WebhookEndpoint
from app.engage import responses
from app.extensions import db
from app.outbound.client import check_url
from tests.conftest import PASSWORD, REPO, Clock
from tests.helpers import csrf_token, sign_in
from tests.security.harness import make_member, sign_in_page
from tests.security.inert import assert_inert, batches
from tests.security.payloads import xss_payloads

PAYLOADS = xss_payloads()
TEXT_QUESTIONS = 5  # each at most 400 characters: 2,000 in all, the most a survey may ask
KEPT_QUESTIONS = 12  # each at most 160 characters

# Query parameters that pages show back, as (path, parameter).
REFLECTED = [
    ("/search", "q"),
    ("/signin", "email"),
    ("/signin", "next"),
    ("/subscribe/newsletter", "email"),
    ("/subscribe/newsletter", "from"),
    ("/redeem", "code"),
    ("/admin/members/", "q"),
]


def _survey(slug: str, questions: int, max_length: int) -> str:
    lines = ["---", f"title: XSS {slug}", "questions:"]
    for n in range(questions):
        lines += [
            f"  - id: t{n}",
            "    type: text",
            f"    label: Text {n}",
            f"    max_length: {max_length}",
        ]
    return "\n".join([*lines, "---", "Answer in words.", ""])


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    (content / "surveys" / "xss-results.md").write_text(_survey("results", TEXT_QUESTIONS, 400))
    (content / "surveys" / "xss-kept.md").write_text(_survey("kept", KEPT_QUESTIONS, 160))
    app_config.update(
        CONTENT_DIR=str(content), WEBHOOK_ALLOW_LOOPBACK=True, RATELIMIT_ENABLED=False
    )
    return app_config


def _as_answer(payload: str) -> str:
    """What a survey keeps of a text: no control characters (refused), lines joined by \\n,
    outer spaces trimmed."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", payload)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _shown(text: str) -> str:
    """How a browser's innerText shows ``text`` inside an ordinary element."""
    return " ".join(text.split())


# --- survey answers -------------------------------------------------------------------------


def test_survey_answers_render_inert_for_marketers(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    answers = [_as_answer(p) for p in PAYLOADS]
    with app.app_context():
        survey = responses.get_survey("xss-results")
        for number, batch in enumerate(batches(answers, TEXT_QUESTIONS)):
            member = members.create_member(
                f"answer{number}@example.com", None, now=clock(), verified=True
            )
            submitted = {f"t{n}": [text] for n, text in enumerate(batch)}
            responses.submit_response(member.id, survey, submitted, clock())
        db.session.commit()
    assert len(answers) // TEXT_QUESTIONS < 50  # every answer is among the newest shown
    make_member(app, clock, "marketer@example.com", role="marketer")
    sign_in_page(hostile_page, "marketer@example.com")
    response = hostile_page.goto("/admin/surveys/xss-results")
    assert response is not None and response.status == 200
    assert_inert(hostile_page, "survey results", PAYLOADS)
    shown = hostile_page.locator(".text-answers li").all_inner_texts()
    assert sorted(_shown(s) for s in shown) == sorted(_shown(a) for a in answers if a)


def test_kept_survey_answers_render_inert_in_the_form(app: Flask, hostile_page: Page) -> None:
    page = hostile_page
    tried = 0
    for batch in batches([_as_answer(p) for p in PAYLOADS], KEPT_QUESTIONS):
        page.goto("/surveys/xss-kept/")
        form = {f"q.t{n}": text for n, text in enumerate(batch)}
        form["csrf_token"] = page.locator('input[name="csrf_token"]').input_value()
        # The form's own POST, sent by the page's browser (same cookies); then the page shows
        # the kept answers.
        sent = page.request.post("/surveys/xss-kept/", form=form, max_redirects=0)
        assert sent.status == 302, sent.status
        page.goto("/surveys/xss-kept/")
        assert page.locator("#keep").count() == 1, page.url
        assert_inert(page, "kept answers", batch)
        for n, text in enumerate(batch):
            assert page.locator(f"#q-t{n}").input_value() == text
        tried += len(batch)
    assert tried == len(PAYLOADS)


# --- webhook addresses ----------------------------------------------------------------------


def _webhook_url(payload: str) -> str:
    """The payload as the query of an address the app accepts (no spaces, no #fragment)."""
    text = re.sub(r"[\x00-\x20\x7f]", "_", payload).replace("#", "%23")
    return "https://127.0.0.1/hook?" + text


def test_webhook_addresses_render_inert_on_the_permissions_page(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    member_id = make_member(app, clock, "hooks@example.com")
    stored: list[str] = []
    with app.app_context():
        for payload in PAYLOADS:
            # Stored as add_endpoint stores it; inserted directly so that one page shows them
            # all (a member may keep five at a time).
            target = check_url(_webhook_url(payload), allow_loopback=True)
            if target.url in stored:
                continue
            db.session.add(
                WebhookEndpoint(
                    member_id=member_id, url=target.url, secret="whsec_AAAA", created_at=clock()
                )
            )
            stored.append(target.url)
        db.session.commit()
    assert len(stored) > len(PAYLOADS) * 0.9
    sign_in_page(hostile_page, "hooks@example.com")
    response = hostile_page.goto("/me/permissions")
    assert response is not None and response.status == 200
    assert_inert(hostile_page, "webhook addresses", PAYLOADS)
    assert hostile_page.locator(".endpoint-url").all_inner_texts() == stored


@pytest.mark.slow
def test_webhook_form_errors_and_flashes_escape_every_address(app: Flask, clock: Clock) -> None:
    make_member(app, clock, "hooks@example.com")
    client = app.test_client()
    sign_in(client, "hooks@example.com", PASSWORD)
    token = csrf_token(client.get("/me/permissions").get_data(as_text=True))
    added = 0
    for payload in PAYLOADS:
        response = client.post(
            "/me/permissions/webhooks", data={"webhook-url": payload, "csrf_token": token}
        )
        if response.status_code == 302:  # added: the flash names the address
            added += 1
            response = client.get(response.location)
            with app.app_context():  # keep under the five-endpoint cap
                db.session.query(WebhookEndpoint).delete()
                db.session.commit()
        assert response.status_code in (200, 400), payload
        html = response.get_data(as_text=True)
        assert "<" not in payload or payload not in html, payload
    assert added < len(PAYLOADS)  # most are refused, with an error that may quote them


def test_webhook_form_errors_render_inert_in_the_browser(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    make_member(app, clock, "hooks@example.com")
    sign_in_page(hostile_page, "hooks@example.com")
    sample = PAYLOADS[::40]
    for payload in sample:
        hostile_page.goto("/me/permissions")
        hostile_page.locator("#advanced > summary").click()  # webhooks are under Advanced
        hostile_page.locator("#webhook-url").fill(payload)
        hostile_page.get_by_role("button", name="Add endpoint").click()
        hostile_page.wait_for_load_state()
        assert_inert(hostile_page, "webhook form", [payload])
        assert hostile_page.locator("#webhook-url").input_value() == payload.replace(
            "\r", ""
        ).replace("\n", "").replace("\x00", "\ufffd")


# --- display names on the staff screens -----------------------------------------------------


def test_display_names_render_inert_on_the_staff_screens(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    names = [p[:MAX_DISPLAY_NAME] for p in PAYLOADS]
    with app.app_context():
        for number, name in enumerate(names):
            member = members.create_member(
                f"name{number:03d}@example.com", None, now=clock(), verified=True
            )
            db.session.flush()
            db.session.execute(
                update(Member).where(Member.id == member.id).values(display_name=name)
            )
        db.session.commit()
    make_member(app, clock, "admin@example.com", role="admin")
    sign_in_page(hostile_page, "admin@example.com")
    seen: list[str] = []
    for number in range(1, len(names) // 50 + 2):
        response = hostile_page.goto(f"/admin/members/?page={number}")
        assert response is not None and response.status == 200
        assert_inert(hostile_page, f"members page {number}", names)
        seen += hostile_page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    for name in names:
        assert any(_shown(name) == _shown(s) for s in seen), name


# --- query parameters shown back -------------------------------------------------------------


def _url(path: str, parameter: str, value: str) -> str:
    return f"{path}?{urllib.parse.urlencode({parameter: value})}"


@pytest.mark.slow
@pytest.mark.parametrize(("path", "parameter"), [r for r in REFLECTED if r[0] != "/search"])
def test_each_reflected_parameter_escapes_every_payload(
    app: Flask, clock: Clock, path: str, parameter: str
) -> None:
    client = app.test_client()
    if path.startswith("/admin/"):
        make_member(app, clock, "admin@example.com", role="admin")
        sign_in(client, "admin@example.com", PASSWORD)
    for payload in PAYLOADS:
        response = client.get(_url(path, parameter, payload))
        assert response.status_code < 500, (path, payload)
        html = response.get_data(as_text=True)
        assert "<" not in payload or payload not in html, (path, parameter, payload)


def test_reflected_parameters_render_inert_in_the_browser(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    make_member(app, clock, "admin@example.com", role="admin")
    tried = 0
    for path, parameter in REFLECTED:
        if path.startswith("/admin/"):
            sign_in_page(hostile_page, "admin@example.com")
        for batch in batches(PAYLOADS, 50):
            response = hostile_page.goto(_url(path, parameter, " ".join(batch)))
            assert response is not None and response.status < 500, path
            assert_inert(hostile_page, f"{path}?{parameter}", batch)
            tried += len(batch)
    assert tried == len(PAYLOADS) * len(REFLECTED)


# --- the member's own data, as files ---------------------------------------------------------


def test_the_data_export_is_a_json_download_that_no_browser_renders(
    app: Flask, clock: Clock
) -> None:
    """The export holds every survey answer as written: it must come as a JSON attachment that
    a browser neither renders nor sniffs as HTML."""
    payload = "</script><svg onload=alert(1)><script>alert(1)</script>"
    make_member(app, clock, "exporter@example.com")
    with app.app_context():
        member = members.find_by_email("exporter@example.com")
        assert member is not None
        responses.submit_response(
            member.id, responses.get_survey("xss-results"), {"t0": [payload]}, clock()
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "exporter@example.com", PASSWORD)
    response = client.get("/me/permissions/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert payload in json.dumps(response.get_json(), ensure_ascii=False)  # kept as written
