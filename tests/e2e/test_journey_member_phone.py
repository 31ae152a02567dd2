"""A member on a phone: signs in at 390 px, opens the header's menu, reaches the rewards page,
switches the weekly letter on in the inbox, saves, and sees it saved and recorded."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from app.consent.ledger import consents
from tests.conftest import PASSWORD
from tests.e2e.steps import snapshot

PHONE = {"width": 390, "height": 844}


def _overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_a_member_on_a_phone_switches_a_channel_on_from_the_rewards_page(
    page: Page, app: Flask, member: Any
) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/signin")
    main = page.get_by_role("main")
    main.get_by_label("Email", exact=True).fill("reader@example.com")
    main.get_by_label("Password", exact=True).fill(PASSWORD)
    main.get_by_role("button", name="Sign in").click()
    header = page.locator("header.site-header")
    box = header.bounding_box()
    assert box is not None and box["height"] <= 110
    snapshot(page, "member-phone-1-signed-in")

    menu = page.get_by_role("checkbox", name="Menu")
    expect(menu).not_to_be_checked()
    page.locator("label[for=menu-toggle]").click()
    expect(menu).to_be_checked()
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("button", name="Sign out")).to_be_visible()
    snapshot(page, "member-phone-2-menu-open")
    account.get_by_role("link", name="Rewards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your rewards")
    assert _overflow(page) == 0

    control = page.locator("form.consent-choices").filter(has_text="send me the weekly letter")
    expect(control).to_have_count(1)
    inbox = control.get_by_role("switch", name="Inbox on this site")
    expect(inbox).not_to_be_checked()
    inbox.check()
    switch = control.locator("label.switch").filter(has_text="Inbox on this site").bounding_box()
    assert switch is not None and switch["x"] >= 0 and switch["x"] + switch["width"] <= 390
    control.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_role("status")).to_contain_text(
        "The weekly letter may now reach you in your inbox on this site"
    )
    control = page.locator("form.consent-choices").filter(has_text="send me the weekly letter")
    expect(control.get_by_role("switch", name="Inbox on this site")).to_be_checked()
    expect(control.get_by_role("switch", name="Email")).not_to_be_checked()
    expect(control).to_contain_text("On since")
    assert _overflow(page) == 0
    snapshot(page, "member-phone-3-saved")
    with app.app_context():
        [event] = consents.history(member.id)
        assert (event.scope, event.channel, event.action) == ("newsletter", "inbox", "grant")
        assert event.source == "form:rewards"
