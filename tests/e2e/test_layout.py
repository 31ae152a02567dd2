"""The reader's pages fit a phone and a laptop: nothing is wider than the window, and the buttons
that give or take back a permission are in view without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

WIDTHS = [390, 1280]


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def _sign_in(page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill("reader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    # On a phone the account links are in the closed header menu: present, not shown.
    expect(page.locator("nav[aria-label=Account]")).to_contain_text("Permissions")


@pytest.mark.parametrize("width", WIDTHS)
def test_reader_pages_are_no_wider_than_the_window(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    article = page.locator("a[href^='/posts/']").first.get_attribute("href")
    page.goto("/surveys/")
    survey = page.locator("main a[href^='/surveys/']").first.get_attribute("href")
    assert article and survey
    for path in ("/", article, "/search?q=permission", survey, "/signin", "/signup", "/redeem"):
        page.goto(path)
        assert _overflow(page) == 0, f"{path} is {_overflow(page)}px wider than {width}px"


@pytest.mark.parametrize("width", WIDTHS)
def test_permission_buttons_are_in_view_for_a_signed_in_member(
    page: Page, member: Any, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page)
    for path in (
        "/me/permissions",
        "/me/rewards",
        "/me/account",
        "/me/permissions/history",
        "/inbox",
    ):
        page.goto(path)
        assert _overflow(page) == 0, f"{path} is {_overflow(page)}px wider than {width}px"
    page.goto("/me/permissions")
    buttons = page.locator(
        "form.consent-choices button, form.consent-choices label.switch"
    )  # each scope's one save, and every switch with its label
    assert buttons.count() >= 4
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (
            f"{buttons.nth(index).inner_text()} is outside the window: {box}"
        )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_learning_pages_fit_the_window(
    page: Page, app: Any, member: Any, clock: Any, width: int
) -> None:
    """The member's answers and their correction, and the why page with what chose them and
    how often and when they get the letter."""
    from datetime import timedelta
    from urllib.parse import urlsplit

    from app.consent.gate import contacts
    from app.consent.gate.why import why_url
    from app.engage.models import SurveyResponse
    from app.extensions import db
    from tests.consent import world

    with app.app_context():
        world.consent(
            member.id,
            "newsletter",
            "email",
            granted=True,
            version=1,
            at=clock() - timedelta(days=9),
        )
        db.session.add(
            SurveyResponse(
                member_id=member.id,
                survey="reader-2026",
                version="v",
                answers={"role": "Marketing or growth", "usefulness": 4, "recommend": 9},
                submitted_at=clock() - timedelta(days=3),
            )
        )
        contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="letter",
            kind="editorial",
            ref="letter",
            sent_at=clock() - timedelta(days=2),
        )
        db.session.commit()
        why = why_url(member.id, "newsletter", "email", clock() - timedelta(days=2))
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page)
    for path in ("/me/rewards", "/surveys/reader-2026/correct", urlsplit(why).path):
        page.goto(path)
        assert _overflow(page) == 0, f"{path} is {_overflow(page)}px wider than {width}px"
    expect(page.get_by_role("heading", name="How often and when, for you")).to_be_visible()
