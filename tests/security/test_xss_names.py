"""XSS through display names: every payload, saved as a member's name, renders inert in Chromium
under the real CSP on every page that shows the name."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import update

from app.accounts.members import MAX_DISPLAY_NAME
from app.accounts.models import Member
from app.extensions import db
from tests.browser import csp_violations
from tests.conftest import PASSWORD
from tests.security.payloads import xss_payloads


def _set_name(app: Flask, name: str) -> None:
    with app.app_context():
        db.session.execute(
            update(Member).where(Member.email_key == "reader@example.com").values(display_name=name)
        )
        db.session.commit()


def test_display_names_render_inert(app: Flask, member: Member, page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill("reader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    tried = 0
    for payload in xss_payloads():
        name = payload[:MAX_DISPLAY_NAME]
        _set_name(app, name)
        page.goto("/me/account")  # the name is in the header and in the profile form
        assert csp_violations(page) == [], payload
        shown = page.locator('.account-nav a[href="/me/account"]').text_content()
        assert shown is not None
        expected = name.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        assert shown == expected, (shown, payload)  # shown as text, never as markup
        # A text input drops line breaks from its value (HTML's value sanitisation).
        typed = page.locator("#profile-display_name").input_value()
        assert typed == expected.replace("\n", ""), (typed, payload)
        tried += 1
    assert tried >= 200
