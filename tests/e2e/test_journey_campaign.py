"""Journeys 5 and 6: a marketer sends a campaign that the member answers in the inbox, and a
member stops a scope with the unsubscribe link of a received mail."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser import csp_violations
from tests.conftest import PASSWORD, Clock
from tests.e2e.steps import make_people
from tests.helpers import SMTPSink


def sign_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Account")).to_be_visible()


def deliver(app: Flask) -> Any:
    from app.notify.worker import Worker

    with app.app_context():
        return Worker(name="journey").run(once=True)


def compose_and_send(page: Page, title: str) -> str:
    page.goto("/admin/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title (the subject of the mail)").fill(title)
    page.get_by_label("Message (Markdown)").fill(
        "Three new articles this week. [Start here](/posts/pull-before-push/)."
    )
    page.get_by_label("Scope").select_option("newsletter")
    page.get_by_label("Kind").select_option("editorial")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Audience preview")).to_be_visible()
    url = page.url
    page.get_by_role("link", name="Send now…").click()
    page.get_by_role("button", name=re.compile(r"^Yes, send to")).click()
    expect(page.locator(".flashes")).to_contain_text("Queued")
    return url


def test_marketer_campaign_reaches_the_inbox_and_hears_back(
    page: Page, app: Flask, clock: Clock, smtp: SMTPSink
) -> None:
    make_people(app, clock)
    sign_in(page, "marketer@example.com")
    page.goto("/admin/campaigns/new")
    page.get_by_label("Title (the subject of the mail)").fill("Spring letter")
    page.get_by_label("Message (Markdown)").fill("Birds are back. [Read](/posts/pull-before-push/)")
    page.get_by_role("button", name="Save draft").click()
    audience = page.locator("table.audience")
    expect(audience).to_contain_text("Inbox")
    # the marketer earned the letter by confirming an address, but never said yes to it
    expect(audience).to_contain_text("no yes on this channel: 1")
    page.screenshot(path="test-artifacts/e2e/journey5-audience-preview.png", full_page=True)
    page.get_by_role("link", name="Send now…").click()
    page.get_by_role("button", name=re.compile(r"^Yes, send to")).click()
    expect(page.locator(".flashes")).to_contain_text("Queued 2 deliveries")
    campaign_url = page.url

    assert deliver(app)["sent"] == 2
    assert len(smtp.wait_for(1)) == 1

    sign_in(page, "reader@example.com")
    inbox_link = page.get_by_role("navigation", name="Account").get_by_role(
        "link", name=re.compile("Inbox")
    )
    expect(inbox_link).to_contain_text("2")  # the letter, and the demo's notice for everyone
    inbox_link.click()
    expect(page.get_by_role("heading", name="Notices for every member")).to_be_visible()
    page.get_by_role("link", name="Spring letter").click()
    expect(page.locator(".message-body")).to_contain_text("Birds are back")
    page.get_by_label("Your reply").fill("More about swifts, please.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".conversation")).to_contain_text("More about swifts, please.")
    page.get_by_role("button", name="Not for me").click()
    expect(page.get_by_role("button", name="Stop these messages")).to_be_visible()
    page.screenshot(path="test-artifacts/e2e/journey5-inbox.png", full_page=True)

    sign_in(page, "marketer@example.com")
    page.goto(campaign_url)
    expect(page.locator("table.funnel-states")).to_contain_text("Sent")
    funnel = page.locator("table.funnel-people")
    expect(funnel.locator("tr", has_text="replied")).to_contain_text("1")
    expect(funnel.locator("tr", has_text="not for me")).to_contain_text("1")
    expect(funnel.locator("tr", has_text="opened or read it")).to_contain_text("1")
    page.get_by_role("link", name="reader@example.com").click()
    expect(page.locator(".conversation")).to_contain_text("More about swifts, please.")
    page.get_by_label("Answer").fill("Swifts are next week.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".flashes")).to_contain_text("Answer sent")
    assert csp_violations(page) == []


def test_unsubscribe_link_in_the_mail_stops_the_next_campaign(
    page: Page, app: Flask, clock: Clock, smtp: SMTPSink
) -> None:
    from app.consent.models import ConsentState
    from app.extensions import db

    make_people(app, clock)
    sign_in(page, "marketer@example.com")
    compose_and_send(page, "First letter")
    deliver(app)
    [mail] = smtp.wait_for(1)
    assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    [link] = re.findall(r"<(http[^>]+/u/[^>]+)>", str(mail["List-Unsubscribe"]))
    page.context.clear_cookies()  # the person reading mail is not signed in
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribed")
    page.screenshot(path="test-artifacts/e2e/journey6-unsubscribed.png", full_page=True)
    with app.app_context():
        state = db.session.scalar(select(ConsentState).filter_by(channel="email"))
        assert state is not None and state.granted is False

    # Two Fridays on: past the weekly cap and the slot the unread first letter skips; only
    # the revoke holds back.
    clock.advance(days=14)
    sign_in(page, "marketer@example.com")
    compose_and_send(page, "Second letter")
    done = deliver(app)
    assert done.get("sent", 0) == 1  # the inbox, which the reader still allows
    assert [str(m["Subject"]) for m in smtp.messages] == ["First letter"]
    assert csp_violations(page) == []
