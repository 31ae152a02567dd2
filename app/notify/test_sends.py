"""Test sends: a marketer sends a campaign to themselves before it goes to anyone.

The test goes to the marketer's own verified email address (subject ``[TEST] <title>``, a
TEST banner above the body) and to their inbox on the site (a :class:`TestSend` row, shown
with the same banner). It is no delivery and never passes through the outbox: the audience,
the funnel, ``/metrics``, learning and the cadence count deliveries, so a test changes none of
them. Only a marketer's own address is used, so no gate applies (nobody else gets anything).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from sqlalchemy import func, select

from app.accounts.models import Member
from app.consent.scopes import find_scope
from app.extensions import db
from app.mail.message import MailError, Message
from app.mail.sending import send_message
from app.notify.errors import TestSendRefused
from app.notify.models import Campaign, TestSend
from app.notify.render import campaign_html, plain_text

SUBJECT_PREFIX = "[TEST] "


@dataclass(frozen=True)
class TestSent:
    """Where the test went: the address of the mail and the inbox copy's id."""

    email: str
    test_id: int


def send_test(campaign: Campaign, marketer: Member, now: datetime) -> TestSent:
    """Send ``campaign`` as a test to ``marketer``'s verified address and inbox. Raises
    :class:`TestSendRefused` when the address is not verified or the mail cannot go. The
    caller commits (the inbox copy is added only when the mail went)."""
    if not marketer.is_verified:
        raise TestSendRefused(
            f"Your address {marketer.email} is not verified yet, so no test was sent. "
            "Open the confirmation link we mailed you, then try again."
        )
    html = campaign_html(campaign.body, campaign.updated_at)
    scope = find_scope(campaign.scope)
    context = {
        "campaign": campaign,
        "html": html,
        "text": plain_text(html),
        "scope_title": scope.title if scope is not None else campaign.scope,
        "subject": SUBJECT_PREFIX + campaign.title,
    }
    try:
        message_id = send_message(
            Message(
                to=marketer.email,
                to_name=marketer.display_name or "",
                subject=SUBJECT_PREFIX + campaign.title,
                text=render_template("mail/notify/test.txt", **context),
                html=render_template("mail/notify/test.html", **context),
                headers={"Auto-Submitted": "auto-generated", "X-Pullfirst-Test": "yes"},
            )
        )
    except MailError as exc:
        raise TestSendRefused(f"The test mail could not be sent: {exc}") from None
    copy = TestSend(
        campaign_id=campaign.id,
        member_id=marketer.id,
        title=campaign.title,
        html=html,
        sent_at=now,
        message_id=message_id,
    )
    db.session.add(copy)
    db.session.flush()
    return TestSent(marketer.email, copy.id)


def tests_of(member_id: int, limit: int = 20) -> list[TestSend]:
    """The member's test messages, newest first (only marketers have any)."""
    return list(
        db.session.scalars(
            select(TestSend)
            .where(TestSend.member_id == member_id)
            .order_by(TestSend.sent_at.desc(), TestSend.id.desc())
            .limit(limit)
        )
    )


def own_test(member_id: int, test_id: int) -> TestSend | None:
    """The member's own test message with this id; None for anyone else's."""
    return db.session.scalar(
        select(TestSend).where(TestSend.id == test_id, TestSend.member_id == member_id)
    )


def open_test(test: TestSend, now: datetime) -> None:
    """Mark the inbox copy read (no engagement is recorded: it is not a delivery)."""
    if test.read_at is None:
        test.read_at = now


def unread_tests(member_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(TestSend)
            .where(TestSend.member_id == member_id, TestSend.read_at.is_(None))
        )
        or 0
    )
