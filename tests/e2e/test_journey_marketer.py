"""The marketer's journey (issue 19): send a test to oneself and read it in the inbox, confirm a
send that names its audience in people and channels, and issue a batch of in-store codes as
printable cards, looked at as the printer will see them."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Clock
from tests.e2e.steps import make_people, sign_in, snapshot
from tests.helpers import SMTPSink


def _worker() -> type:
    from app.notify.worker import Worker

    return Worker


def overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_marketer_tests_confirms_and_prints_cards(
    page: Page, app: Flask, clock: Clock, smtp: SMTPSink
) -> None:
    make_people(app, clock)
    sign_in(page, "marketer@example.com", PASSWORD)
    page.goto("/admin/campaigns/new")
    page.get_by_label("Title (the subject of the mail)").fill("Spring letter")
    page.get_by_label("Message (Markdown)").fill("Birds are back. [Read](/posts/pull-before-push/)")
    page.get_by_role("button", name="Save draft").click()
    campaign_url = page.url

    # 1. a test to oneself: by mail and in the inbox, marked TEST, counted nowhere
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator(".flashes")).to_contain_text("Test sent to marketer@example.com")
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == "[TEST] Spring letter"
    page.goto("/inbox")
    page.get_by_role("link", name=re.compile("Spring letter")).click()
    expect(page.locator(".test-banner")).to_contain_text("only you got this")
    expect(page.locator(".message-body")).to_contain_text("Birds are back")
    snapshot(page, "marketer-test-in-inbox")

    # 2. Send asks first, with the audience in people and channels
    page.goto(campaign_url)
    send = page.get_by_role("link", name="Send now…")
    cancel = page.get_by_role("link", name="Cancel campaign…")
    expect(cancel).to_have_class(re.compile("button-danger"))
    send_box, cancel_box = send.bounding_box(), cancel.bounding_box()
    assert send_box is not None and cancel_box is not None
    assert cancel_box["y"] - send_box["y"] > 200  # far apart, not side by side
    snapshot(page, "marketer-campaign-draft")
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow(page) == 0
    page.set_viewport_size({"width": 1280, "height": 900})
    send.click()
    expect(page.locator(".confirm-figures")).to_have_text(
        "Send to 1 person: 1 by email, 1 in the inbox (2 messages)."
    )
    snapshot(page, "marketer-confirm-send")
    page.get_by_role("button", name="Yes, send to 1 person").click()
    expect(page.locator(".flashes")).to_contain_text("Queued 2 deliveries")
    assert len(smtp.messages) == 1  # only the test so far: the worker sends the rest
    with app.app_context():
        assert _worker()(name="journey").run(once=True)["sent"] == 2
    page.goto(campaign_url)
    expect(page.locator(".funnel-summary")).to_contain_text("1 person reached with 2 messages")
    expect(page.locator("svg.small-multiple")).to_have_count(1)
    expect(page.locator(".chart-legend")).to_contain_text("messages sent: 2")
    page.get_by_text("The same numbers as a table").click()
    expect(page.locator(".chart-data table")).to_contain_text("messages sent")
    snapshot(page, "marketer-results")
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow(page) == 0
    page.set_viewport_size({"width": 1280, "height": 900})

    # 3. a batch of codes as printable cards
    page.goto("/admin/codes")
    page.get_by_label("Batch name").fill("spring-store")
    page.get_by_label("How many codes").fill("12")
    page.get_by_label("Uses per code").fill("1")
    last_day = (clock() + timedelta(days=60)).date().isoformat()
    page.get_by_label("Last day the codes work (optional)").fill(last_day)
    page.get_by_role("button", name="Issue and print cards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("12 cards for spring-store")
    cards = page.locator(".code-card")
    expect(cards).to_have_count(12)
    expect(cards.first.locator("svg.qr")).to_be_visible()
    url = cards.first.locator(".code-card-qr").get_attribute("data-url")
    assert url is not None and "/redeem?code=" in url
    assert overflow(page) == 0
    snapshot(page, "marketer-cards-screen")
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow(page) == 0
    page.set_viewport_size({"width": 1280, "height": 900})

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".cards-intro")).to_be_hidden()
    expect(cards.first).to_be_visible()
    border = cards.first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert border == "dashed"  # cut lines
    columns = page.locator(".code-cards").evaluate(
        "e => getComputedStyle(e).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2
    snapshot(page, "marketer-cards-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1
    page.emulate_media(media="screen")

    # the batch is listed, with its redeemed count
    page.goto("/admin/codes")
    row = page.locator("tr", has_text="spring-store")
    expect(row).to_contain_text("12")
