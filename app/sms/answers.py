"""The team's answer to a member who wrote by text goes back by text, as a system message."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.consent import phones, texts
from app.consent.models import SmsMessage
from app.consent.terms import Channel
from app.extensions import db
from app.notify.inbox import scope_title
from app.notify.models import Campaign, Delivery, Reply


def came_by_text(campaign_id: int, member_id: int) -> bool:
    """Whether the member's latest reply about the campaign was a text."""
    channel = db.session.scalar(
        select(Delivery.channel)
        .join(Reply, Reply.delivery_id == Delivery.id)
        .where(
            Reply.campaign_id == campaign_id,
            Reply.member_id == member_id,
            Reply.author == "member",
        )
        .order_by(Reply.at.desc(), Reply.id.desc())
        .limit(1)
    )
    return channel == Channel.SMS


def forward_answer(answer: Reply) -> SmsMessage | None:
    """Queue ``answer`` as a text to the member when their conversation is by text and their
    number is still theirs and reachable; commits, and returns the queued text (the caller
    sends it), else None."""
    number = phones.number_of(answer.member_id)
    if number is None or phones.is_failed(number.number) or not texts.configured():
        return None
    if not came_by_text(answer.campaign_id, answer.member_id):
        return None
    campaign = db.session.get_one(Campaign, answer.campaign_id)
    text = f"{texts.program()} ({scope_title(campaign)}): {answer.body}"
    message = texts.queue(number.number, answer.member_id, "answer", text, clock.now())
    db.session.commit()
    return message
