"""The header fits the screen it is on: on a phone the brand and a Menu button, the rest folded
into a menu that opens without any script; on a laptop one row, brand left, links right. For
visitors, members and the team (whose header carries more links), and every page ends with the
footer's way to redeem a code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import LiveServer
from tests.conftest import PASSWORD, Clock

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
ROLES = ["visitor", "member", "editor", "marketer", "admin"]


def _overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.fixture
def people(app: Flask, clock: Clock) -> dict[str, str]:
    """A verified account per role, by role: its email."""
    from app.accounts import members
    from app.extensions import db

    emails = {}
    with app.app_context():
        for role in ROLES[1:]:
            email = f"{role}@example.com"
            members.create_member(
                email,
                PASSWORD,
                now=clock(),
                role=role,
                display_name=f"Sam {role.title()}",
                verified=True,
            )
            emails[role] = email
        db.session.commit()
    return emails


@pytest.fixture
def no_script(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A browser with JavaScript switched off, on a phone."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    yield context
    context.close()


def _sign_in(page: Page, email: str) -> None:
    """Sign in through the form (on a phone the header's links are in the closed menu)."""
    page.goto("/signin")
    page.get_by_role("main").get_by_label("Email", exact=True).fill(email)
    page.get_by_role("main").get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.locator("nav[aria-label=Account]")).to_contain_text("Sign out")


def _header_links(page: Page) -> list[Any]:
    """The boxes of everything one can press in the header, in reading order."""
    header = page.locator("header.site-header")
    items = header.locator("a:visible, button:visible, input[type=search]:visible")
    return [items.nth(i).bounding_box() for i in range(items.count())]


@pytest.mark.parametrize("role", ROLES)
def test_on_a_laptop_the_header_is_one_row_brand_left_links_right(
    page: Page, people: dict[str, str], role: str
) -> None:
    page.set_viewport_size(LAPTOP)
    if role != "visitor":
        _sign_in(page, people[role])
    for path in ("/", "/search?q=consent", "/redeem"):
        page.goto(path)
        expect(page.get_by_role("checkbox", name="Menu")).to_be_hidden()
        boxes = _header_links(page)
        assert len(boxes) >= 6 and all(boxes)
        middles = [b["y"] + b["height"] / 2 for b in boxes]
        assert max(middles) - min(middles) < 8, f"{role} on {path}: the header wraps: {boxes}"
        brand = page.locator("header .brand").bounding_box()
        last = boxes[-1]
        assert brand is not None and brand["x"] < 150  # the brand on the left
        assert last["x"] + last["width"] > LAPTOP["width"] - 150  # the links reach the right
        assert _overflow(page) == 0, f"{path} is wider than the window"
    if role in ("editor", "marketer", "admin"):
        expect(page.get_by_role("navigation", name="Account")).to_contain_text("Admin")


@pytest.mark.parametrize("role", ROLES)
def test_on_a_phone_the_header_is_a_menu_that_opens_and_closes(
    page: Page, people: dict[str, str], role: str
) -> None:
    page.set_viewport_size(PHONE)
    if role != "visitor":
        _sign_in(page, people[role])
    page.goto("/")
    header = page.locator("header.site-header")
    box = header.bounding_box()
    assert box is not None and box["height"] <= 110, f"the closed header is {box}"
    account = page.locator("nav[aria-label=Account]")
    expect(account).to_be_hidden()
    toggle = page.get_by_role("checkbox", name="Menu")
    page.get_by_text("Menu", exact=True).click()  # a tap on the button
    expect(toggle).to_be_checked()
    expect(account).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys")
    ).to_be_visible()
    expect(page.get_by_role("search").first).to_be_visible()
    if role == "visitor":
        expect(account.get_by_role("link", name="Sign in")).to_be_visible()
    else:
        expect(account.get_by_role("button", name="Sign out")).to_be_visible()
        expect(account.get_by_role("link", name="Rewards")).to_be_visible()
    if role in ("editor", "marketer", "admin"):
        expect(account.get_by_role("link", name="Admin", exact=True)).to_be_visible()
    assert _overflow(page) == 0
    toggle.focus()
    page.keyboard.press("Space")  # the keyboard closes it again
    expect(toggle).not_to_be_checked()
    expect(account).to_be_hidden()


def test_the_menu_opens_without_javascript(
    no_script: BrowserContext, people: dict[str, str]
) -> None:
    page = no_script.new_page()
    _sign_in(page, people["member"])
    page.goto("/search?q=consent")
    account = page.get_by_role("navigation", name="Account", include_hidden=True)
    expect(account).to_be_hidden()
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= 110
    page.get_by_text("Menu", exact=True).click()
    expect(account.get_by_role("link", name="Rewards")).to_be_visible()
    account.get_by_role("link", name="Rewards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your rewards")
    assert _overflow(page) == 0


@pytest.mark.parametrize("size", [PHONE, LAPTOP])
def test_every_page_offers_to_redeem_a_code_in_the_footer(
    page: Page, people: dict[str, str], size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    for path in ("/", "/search?q=the", "/tags/", "/signin", "/about/"):
        page.goto(path)
        footer = page.get_by_role("navigation", name="Footer")
        expect(footer.get_by_role("link", name="Redeem a code")).to_have_attribute(
            "href", "/redeem"
        )
    page.get_by_role("navigation", name="Footer").get_by_role("link", name="Redeem a code").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith("/redeem")
