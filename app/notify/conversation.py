"""Conversations: a member's replies to a campaign, and the marketers' answers.

A reply belongs to the member's delivery of the campaign and counts as engagement. A marketer
answers a conversation a member started; the answer reaches the member's inbox (it is an
answer they asked for, not marketing), with the unread count, and a short system message tells
them where they wrote from (:mod:`app.notify.answer_notices`). A member's reply emits
:class:`ReplyReceived` in the transaction that stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app import events
from app.accounts.models import Member
from app.consent.gate.contacts import record_engagement
from app.consent.terms import Channel
from app.extensions import db
from app.notify import answer_notices
from app.notify.errors import ConversationError
from app.notify.models import Campaign, Delivery, Reply
from app.notify.states import DeliveryState

MAX_REPLY = 4_000


@dataclass(frozen=True)
class ReplyReceived(events.Event):
    """A member replied to a campaign's message (in the inbox, by mail, on Telegram, by text):
    ``channel`` is the channel of the message answered. Handlers run in the reply's
    transaction."""

    name = "reply-received"
    reply_id: int
    delivery_id: int
    campaign_id: int
    member_id: int
    channel: str
    at: datetime


def _clean(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise ConversationError("Write something first.")
    if len(text) > MAX_REPLY:
        raise ConversationError(f"Keep it under {MAX_REPLY:,} characters.")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ConversationError("Remove the control characters from the text.")
    return text


def reply(delivery: Delivery, body: str, now: datetime) -> Reply:
    """The member replies to the message. Raises :class:`ConversationError`. The caller
    commits."""
    message = Reply(
        campaign_id=delivery.campaign_id,
        member_id=delivery.member_id,
        delivery_id=delivery.id,
        author="member",
        body=_clean(body),
        at=now,
    )
    db.session.add(message)
    if delivery.replied_at is None:
        delivery.replied_at = now
    record_engagement(delivery.ref, now, "reply")
    db.session.flush()
    events.emit(
        ReplyReceived(
            reply_id=message.id,
            delivery_id=delivery.id,
            campaign_id=delivery.campaign_id,
            member_id=delivery.member_id,
            channel=delivery.channel,
            at=now,
        )
    )
    return message


def answer(campaign_id: int, member_id: int, marketer_id: int, body: str, now: datetime) -> Reply:
    """A marketer answers the member's conversation about the campaign, and the notice that
    tells the member is queued with it. Raises :class:`ConversationError` when the member never
    replied (marketers answer, they do not start conversations here). The caller commits."""
    started = db.session.scalar(
        select(Reply.id)
        .where(
            Reply.campaign_id == campaign_id, Reply.member_id == member_id, Reply.author == "member"
        )
        .limit(1)
    )
    if started is None:
        raise ConversationError("This member has not written about this campaign.")
    message = Reply(
        campaign_id=campaign_id,
        member_id=member_id,
        author="marketer",
        author_id=marketer_id,
        body=_clean(body),
        at=now,
    )
    db.session.add(message)
    db.session.flush()
    answer_notices.queue_notice(message, latest_reply_channel(campaign_id, member_id), now)
    return message


def latest_reply_channel(campaign_id: int, member_id: int) -> Channel | None:
    """Where the member wrote their latest reply about the campaign (the channel of the
    message it answered), so the team's answer can go back there too."""
    channel: Channel | None = db.session.scalar(
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
    return channel


def latest_sent(member_id: int, channel: Channel) -> Delivery | None:
    """The last message sent to the member on ``channel``: what a text or a chat message
    from them answers."""
    found: Delivery | None = db.session.scalars(
        select(Delivery)
        .where(
            Delivery.member_id == member_id,
            Delivery.channel == channel,
            Delivery.state == DeliveryState.SENT,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    ).first()
    return found


def thread(campaign_id: int, member_id: int) -> list[Reply]:
    return list(
        db.session.scalars(
            select(Reply)
            .where(Reply.campaign_id == campaign_id, Reply.member_id == member_id)
            .order_by(Reply.at, Reply.id)
        )
    )


@dataclass(frozen=True)
class ThreadSummary:
    campaign_id: int
    campaign_title: str
    member_id: int
    member_email: str
    member_name: str
    messages: int
    last_at: datetime
    waiting: bool  # the last message is the member's
    flagged: bool = False  # the member's last message reads like a request to stop


def written_on(replies: list[Reply]) -> dict[int, Channel]:
    """The channel of the message each member reply answered (the inbox, a Telegram chat…),
    by reply id; answers by the team and replies to no message are left out."""
    ids = [r.id for r in replies if r.author == "member" and r.delivery_id is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Reply.id, Delivery.channel)
        .join(Delivery, Delivery.id == Reply.delivery_id)
        .where(Reply.id.in_(ids))
    )
    return {reply_id: channel for reply_id, channel in rows}


def threads(campaign_id: int | None = None, limit: int = 200) -> list[ThreadSummary]:
    """Conversations, the most recent first, optionally of one campaign."""
    query = (
        select(
            Reply.campaign_id, Reply.member_id, func.count(), func.max(Reply.at), func.max(Reply.id)
        )
        .group_by(Reply.campaign_id, Reply.member_id)
        .order_by(func.max(Reply.at).desc())
        .limit(limit)
    )
    if campaign_id is not None:
        query = query.where(Reply.campaign_id == campaign_id)
    found = []
    for campaign, member, count, last_at, last_id in db.session.execute(query):
        last = db.session.get(Reply, last_id)
        who = db.session.get(Member, member)
        what = db.session.get(Campaign, campaign)
        if last is None or who is None or what is None:
            continue
        found.append(
            ThreadSummary(
                campaign,
                what.title,
                member,
                who.email,
                who.name,
                count,
                last_at,
                last.author == "member",
                last.flag is not None,
            )
        )
    return found
