"""Steps the journeys share: screenshots of key moments, and signing in through the form."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser import ARTIFACTS, csp_violations
from tests.conftest import PASSWORD, Clock
from tests.consent import world

SHOTS = ARTIFACTS / "e2e"


def snapshot(page: Page, name: str) -> None:
    """Keep a full-page screenshot of this step as ``test-artifacts/e2e/<name>.png``, after
    checking that the page reported no CSP violation (the record is per document, so each step
    checks its own)."""
    assert csp_violations(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the form and wait until the header shows the account."""
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(re.compile("Sign out"))


def make_people(app: Flask, clock: Clock) -> None:
    """A marketer and a reader who said yes to the weekly letter by email and in the inbox,
    ten days ago."""
    from app.accounts import members
    from app.extensions import db

    at = clock() - timedelta(days=10)
    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=at, verified=True, role="marketer"
        )
        reader = members.create_member(
            "reader@example.com", PASSWORD, now=at, verified=True, display_name="Robin Reader"
        )
        db.session.flush()
        for channel in ("email", "inbox"):
            world.consent(reader.id, "newsletter", channel, granted=True, version=1, at=at)
        db.session.commit()
