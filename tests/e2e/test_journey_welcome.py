"""A new member's first minutes in a real browser: sign up, open the confirmation link from the
mail, press the button, and land signed in on the welcome page, which fits a phone and a
laptop and offers the newsletter unticked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.steps import snapshot
from tests.helpers import SMTPSink, link_in


@pytest.mark.parametrize("width", [390, 1280])
def test_the_confirmation_link_lands_on_the_welcome_page(
    page: Page, smtp: SMTPSink, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill("nova@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Create").click()
    [mail] = smtp.wait_for(1)
    page.goto(link_in(mail, "/verify/"))
    expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    page.get_by_role("button", name="Sign me in").click()
    expect(page).to_have_url(re.compile(r"/welcome$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    expect(page.get_by_role("main")).to_contain_text("The weekly letter")
    assert page.locator("main input[type=checkbox]:checked").count() == 0
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0, f"/welcome is {overflow}px wider than {width}px"
    snapshot(page, f"welcome-{width}")
