"""Journey: a visitor joins, confirms the address from the received mail, and signs in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.helpers import SMTPSink, link_in


def test_join_confirm_and_sign_in(page: Page, smtp: SMTPSink) -> None:
    page.goto("/")
    page.get_by_role("link", name="Join", exact=True).click()
    page.get_by_label("Email", exact=True).fill("new.reader@example.com")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_role("button", name=re.compile("join|sign up|create", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("inbox")

    [message] = smtp.wait_for(1)
    page.goto(link_in(message, "/verify/"))
    expect(page.locator("main")).to_contain_text("confirmed")

    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill("new.reader@example.com")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("new.reader")
