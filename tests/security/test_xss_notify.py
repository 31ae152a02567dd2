"""XSS through what the notifier shows: members' replies (in their inbox thread and on the
marketers' conversation page) and campaign bodies and titles (the campaign page with its
channel previews, the member's inbox and message page, and the mail's HTML part).

Every payload is rendered in Chromium under the real CSP and must stay text
(:mod:`tests.security.inert`); each batch carries markers that must reach the page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page

from app.extensions import db
from app.notify import conversation
from app.notify.campaigns import Draft, check_draft, create_campaign
from app.notify.errors import CampaignError
from app.notify.models import Delivery
from tests.conftest import Clock
from tests.security.harness import make_member, sign_in_page
from tests.security.inert import assert_inert, batches, marker
from tests.security.payloads import xss_payloads

PAYLOADS = xss_payloads()
PER_BODY = 50


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["RATELIMIT_ENABLED"] = False
    return app_config


def _as_reply(payload: str) -> str:
    """What a reply keeps: control characters are refused, lines joined by \\n, trimmed."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", payload)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() or "(empty)"


def _delivered(app: Flask, clock: Clock, member_id: int, title: str, body: str) -> int:
    with app.app_context():
        campaign = create_campaign(
            Draft(title, body, "newsletter", "editorial", ("inbox",)), None, clock()
        )
        campaign.state = "sent"
        delivery = Delivery(
            campaign_id=campaign.id,
            member_id=member_id,
            channel="inbox",
            state="sent",
            attempts=1,
            due_at=clock(),
            created_at=clock(),
            sent_at=clock(),
        )
        db.session.add(delivery)
        db.session.commit()
        return delivery.id


def test_replies_render_inert_for_the_member_and_the_marketers(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    reader = make_member(app, clock, "reader@example.com")
    make_member(app, clock, "marketer@example.com", role="marketer")
    delivery_id = _delivered(app, clock, reader, "A letter", "Hello.")
    replies = [f"{marker(n)} {_as_reply(p)}" for n, p in enumerate(PAYLOADS)]
    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        assert delivery is not None
        for text in replies:
            conversation.reply(delivery, text[: conversation.MAX_REPLY], clock())
        campaign_id = delivery.campaign_id
        db.session.commit()
    sign_in_page(hostile_page, "reader@example.com")
    hostile_page.goto(f"/inbox/{delivery_id}")
    assert_inert(hostile_page, "the member's thread", PAYLOADS)
    shown = " ".join(hostile_page.locator(".reply-body").all_inner_texts())
    assert all(marker(n) in shown for n in range(len(PAYLOADS)))
    hostile_page.context.clear_cookies()
    sign_in_page(hostile_page, "marketer@example.com")
    hostile_page.goto(f"/admin/conversations/{campaign_id}/{reader}")
    assert_inert(hostile_page, "the marketers' conversation page", PAYLOADS)
    shown = " ".join(hostile_page.locator(".reply-body").all_inner_texts())
    assert all(marker(n) in shown for n in range(len(PAYLOADS)))


def test_campaign_bodies_and_titles_render_inert(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    reader = make_member(app, clock, "reader@example.com")
    make_member(app, clock, "marketer@example.com", role="marketer")
    pages = []
    for number, batch in enumerate(batches(list(enumerate(PAYLOADS)), PER_BODY)):
        body = "\n\n".join(f"{marker(n)} {p}" for n, p in batch)
        delivery_id = _delivered(app, clock, reader, f"Batch {number}", body)
        pages.append((delivery_id, batch))
    titles = 0
    for n, payload in enumerate(PAYLOADS):
        title = f"{marker(n)} {payload}"[:150]
        try:
            with app.app_context():
                check_draft(Draft(title, "x", "newsletter", "editorial", ("inbox",)))
        except CampaignError:
            continue  # refused with a message: a line break or a control character
        _delivered(app, clock, reader, title, "Body.")
        titles += 1
    assert titles > len(PAYLOADS) / 2
    sign_in_page(hostile_page, "reader@example.com")
    hostile_page.goto("/inbox")
    assert_inert(hostile_page, "inbox titles", PAYLOADS)
    for delivery_id, batch in pages:
        hostile_page.goto(f"/inbox/{delivery_id}")
        assert_inert(hostile_page, "message body", [p for _, p in batch])
        # The sanitizer may drop what follows an unclosed element (a <textarea> swallows the
        # rest of its batch): the first payload's marker always shows.
        assert marker(batch[0][0]) in hostile_page.locator(".message-body").inner_text()
    hostile_page.context.clear_cookies()
    sign_in_page(hostile_page, "marketer@example.com")
    hostile_page.goto("/admin/campaigns/")
    assert_inert(hostile_page, "campaign titles", PAYLOADS)
    with app.app_context():
        campaign_ids = [db.session.get(Delivery, d).campaign_id for d, _ in pages]  # type: ignore[union-attr]
    for campaign_id, (_, batch) in zip(campaign_ids, pages, strict=True):
        hostile_page.goto(f"/admin/campaigns/{campaign_id}")
        assert_inert(hostile_page, "campaign previews", [p for _, p in batch])


def test_the_mail_html_part_carries_no_live_markup(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    """The mail's HTML is the same sanitized body: loaded in the browser without any CSP
    (as a mail program without one would), nothing runs."""
    from email import policy
    from email.parser import BytesParser

    from app.notify.channels import Outgoing
    from app.notify.email import EmailChannel
    from app.notify.render import prepared_body

    body = "\n\n".join(f"{marker(n)} {p}" for n, p in enumerate(PAYLOADS))
    with app.test_request_context():
        item = Outgoing(
            1,
            1,
            "editorial",
            "newsletter",
            "The weekly letter",
            "A promise.",
            1,
            "reader@example.com",
            "Reader",
            "Title",
            prepared_body(body),
            "http://localhost/u/x",
            "http://localhost/why/x",
            "http://localhost/",
        )
        filled = EmailChannel(_NoTransport(), app.config["MAIL_FROM"]).render(item, clock())
    mail = BytesParser(policy=policy.default).parsebytes(filled.data)
    html = mail.get_body(("html",)).get_content()
    hostile_page.set_content(html)
    assert_inert(hostile_page, "mail HTML", PAYLOADS)
    assert marker(0) in hostile_page.locator("body").inner_text()


class _NoTransport:
    def send(self, mail: Any, envelope_from: str | None = None) -> None:  # pragma: no cover
        raise AssertionError("not sent")

    def send_bytes(self, data: bytes, **envelope: Any) -> None:  # pragma: no cover
        raise AssertionError("not sent")

    def close(self) -> None:
        pass
