"""The member's side of a message: the inbox, reading, "useful", "not for me", and stopping.

Reading a message in the inbox, pressing "useful" and replying count as engagement with the
campaign (they lift a "not for me" and reset the ignored streak). "Not for me" pauses the scope
for the member (the gate's ``paused``) and the page then offers a one-click revoke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app.consent.gate.contacts import not_for_me, record_engagement
from app.consent.ledger import consents
from app.consent.scopes import find_scope
from app.consent.terms import Channel
from app.extensions import db
from app.notify.asking import ASKED, ask_title
from app.notify.models import Campaign, Delivery, Reply
from app.notify.states import DeliveryState


@dataclass(frozen=True)
class InboxItem:
    delivery: Delivery
    unread: bool
    answers: int

    @property
    def title(self) -> str:
        """The campaign's title, or the question a "still want this?" message asked."""
        if self.delivery.reason == ASKED:
            return ask_title(scope_title(self.delivery.campaign))
        return self.delivery.campaign.title


def _answers_unread(member_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(Reply.campaign_id, func.count())
        .where(Reply.member_id == member_id, Reply.author == "marketer", Reply.read_at.is_(None))
        .group_by(Reply.campaign_id)
    )
    return {campaign: count for campaign, count in rows}


def inbox_of(member_id: int, limit: int = 100) -> list[InboxItem]:
    """The member's inbox messages, newest first, with their unread state."""
    answers = _answers_unread(member_id)
    rows = db.session.scalars(
        select(Delivery)
        .where(
            Delivery.member_id == member_id,
            Delivery.channel == Channel.INBOX,
            Delivery.state == DeliveryState.SENT,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return [
        InboxItem(
            row, row.read_at is None or row.campaign_id in answers, answers.get(row.campaign_id, 0)
        )
        for row in rows
    ]


def unread_count(member_id: int) -> int:
    """Unread inbox messages plus unread answers from marketers (the header's count)."""
    messages = (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.member_id == member_id,
                Delivery.channel == Channel.INBOX,
                Delivery.state == DeliveryState.SENT,
                Delivery.read_at.is_(None),
            )
        )
        or 0
    )
    answers = (
        db.session.scalar(
            select(func.count())
            .select_from(Reply)
            .where(
                Reply.member_id == member_id, Reply.author == "marketer", Reply.read_at.is_(None)
            )
        )
        or 0
    )
    return int(messages) + int(answers)


def own_delivery(member_id: int, delivery_id: int) -> Delivery | None:
    """The member's sent delivery with this id; None for another member's, an unsent or an
    unknown one."""
    return db.session.scalar(
        select(Delivery).where(
            Delivery.id == delivery_id,
            Delivery.member_id == member_id,
            Delivery.state == DeliveryState.SENT,
        )
    )


def open_message(delivery: Delivery, now: datetime) -> None:
    """The member opened the message on the site: a read (engagement), and the marketers'
    answers in its conversation are read too. The caller commits."""
    if delivery.read_at is None:
        delivery.read_at = now
        record_engagement(delivery.ref, now, "read")
    db.session.execute(
        update(Reply)
        .where(
            Reply.campaign_id == delivery.campaign_id,
            Reply.member_id == delivery.member_id,
            Reply.author == "marketer",
            Reply.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_useful(delivery: Delivery, now: datetime) -> None:
    if delivery.useful_at is None:
        delivery.useful_at = now
    record_engagement(delivery.ref, now, "useful")


def mark_not_for_me(delivery: Delivery, now: datetime) -> None:
    """Pause the campaign's scope for the member until they engage with it again."""
    campaign = db.session.get(Campaign, delivery.campaign_id)
    assert campaign is not None
    if delivery.not_for_me_at is None:
        delivery.not_for_me_at = now
    not_for_me(delivery.member_id, campaign.scope, now)


def scope_title(campaign: Campaign) -> str:
    """The title of the campaign's scope, as the message page names it (the slug of a scope
    no longer offered)."""
    scope = find_scope(campaign.scope)
    return scope.title if scope is not None else campaign.scope


def stop_scope(
    delivery: Delivery, origin: consents.Origin, now: datetime, wording: str
) -> list[Channel]:
    """Revoke every channel of the campaign's scope the member granted, recording ``wording``
    (the stop block's sentence and button as the page showed them); returns the channels
    revoked. Queued deliveries are held back by the revoke itself."""
    campaign = db.session.get(Campaign, delivery.campaign_id)
    assert campaign is not None
    scope = find_scope(campaign.scope)
    channels = scope.channels if scope is not None else tuple(Channel)
    stopped: list[Channel] = []
    for channel in channels:
        if consents.revoke_consent(
            delivery.member_id, campaign.scope, channel, origin, now, wording=wording
        ):
            stopped.append(channel)
    if stopped and delivery.unsubscribed_at is None:
        delivery.unsubscribed_at = now
    return stopped
