"""The team's answer to a member who wrote by text goes back by text, as a system message."""

from __future__ import annotations

from app import clock
from app.consent import phones, texts
from app.consent.models import SmsMessage
from app.consent.terms import Channel
from app.extensions import db
from app.notify.conversation import latest_reply_channel
from app.notify.inbox import scope_title
from app.notify.models import Campaign, Reply


def forward_answer(answer: Reply) -> SmsMessage | None:
    """Queue ``answer`` as a text to the member when their conversation is by text and their
    number is still theirs and reachable; commits, and returns the queued text (the caller
    sends it), else None."""
    number = phones.number_of(answer.member_id)
    if number is None or phones.is_failed(number.number) or not texts.configured():
        return None
    if latest_reply_channel(answer.campaign_id, answer.member_id) != Channel.SMS:
        return None
    campaign = db.session.get_one(Campaign, answer.campaign_id)
    text = f"{texts.program()} ({scope_title(campaign)}): {answer.body}"
    message = texts.queue(number.number, answer.member_id, "answer", text, clock.now())
    db.session.commit()
    return message
