"""Journey 2, subscribe: from an article's call to action a visitor gives an address, agrees to
the exact wording, opens the confirmation link from the mail, lands signed in with the scope
granted, and sees what that earned."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.consent.models import ConsentEvent
from app.extensions import db
from tests.browser import LiveServer, csp_violations
from tests.e2e.steps import snapshot
from tests.helpers import SMTPSink, link_in

EMAIL = "finch@example.com"
ARTICLE = "/posts/permission-is-earned/"
WORDING = (
    "Yes, send me the weekly letter. I can stop it with one click at any time. At most one "
    "message a week, on Fridays between 08:00 and 18:00 your time."
)


def test_subscribe_from_an_article_confirm_by_mail_and_see_the_reward(
    page: Page, live_server: LiveServer, smtp: SMTPSink, app: Flask
) -> None:
    page.goto(ARTICLE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Permission is earned, not assumed")
    # The block under the article (the footer carries the same offer).
    cta = page.locator("article").get_by_role(
        "complementary", name="Subscribe to The weekly letter"
    )
    expect(cta).to_contain_text(
        "The three best new articles. At most one message a week, on "
        "Fridays between 08:00 and 18:00 your time"
    )
    cta.get_by_label("Your email").fill(EMAIL)
    cta.get_by_role("button", name="Subscribe").click()

    # The exact words come next, unticked; the address typed under the article is kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("The weekly letter")
    expect(page.get_by_label("Email", exact=True)).to_have_value(EMAIL)
    agree = page.get_by_role("checkbox", name=WORDING, exact=True)
    expect(agree).not_to_be_checked()
    snapshot(page, "subscribe-1-wording")
    agree.check()
    page.get_by_role("main").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert smtp.wait_for(1)

    message = smtp.last_to(EMAIL)
    page.goto(link_in(message, "/subscriptions/confirm/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"The weekly letter for {EMAIL}")
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Sign out")
    expect(page.get_by_role("main")).to_contain_text("The weekly letter will reach you by email.")
    snapshot(page, "subscribe-2-welcome")

    # The reward: confirming the address earned the weekly letter as a topic, already switched on.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Rewards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your rewards")
    topics = page.get_by_role("region", name="Topics you may choose to hear about")
    letter = topics.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="The weekly letter")
    )
    expect(letter).to_contain_text("Earned for confirming your email address")
    # One control: the sentence once, and the email switch on since the confirmation. The inbox
    # on the site and Telegram were not part of what the visitor agreed to: still offered, off.
    expect(letter.get_by_text(WORDING, exact=True)).to_have_count(1)
    expect(letter.get_by_role("switch", name="Email")).to_be_checked()
    expect(letter).to_contain_text("On since")
    for name in ("Inbox on this site", "Telegram"):
        expect(letter.get_by_role("switch", name=name)).not_to_be_checked()
    snapshot(page, "subscribe-3-rewards")

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Permissions").click()
    expect(page).to_have_url(f"{live_server.url}/me/permissions")
    card = page.locator("#scope-newsletter")
    expect(card.get_by_role("heading", name="The weekly letter")).to_be_visible()
    email_row = card.get_by_role("row", name=re.compile("^Email"))
    expect(email_row).to_contain_text("Yes since")
    expect(email_row.get_by_role("button", name=re.compile("Stop"))).to_be_visible()

    # The ledger holds the yes with the very words the visitor ticked.
    with app.app_context():
        events = db.session.scalars(select(ConsentEvent)).all()
        assert [(e.scope, e.channel, e.action, e.wording, e.source, e.page) for e in events] == [
            (
                "newsletter",
                "email",
                "grant",
                WORDING,
                "form:subscribe",
                "/subscribe/newsletter?from=article",
            )
        ]
    assert csp_violations(page) == []
