"""A campaign's funnel in people, beside its deliveries.

A member reached on two channels is one person and two deliveries: the audience and every rate
here count people (distinct members), and rates are a share of the people reached (those with
at least one message sent). Deliveries are counted separately, per channel, with the share of
them that went out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from app.extensions import db
from app.notify.models import Campaign, Delivery, Reply
from app.notify.states import DeliveryState


@dataclass(frozen=True)
class Step:
    """One step of the funnel: ``people`` who took it and their share of ``of`` people."""

    label: str
    people: int
    of: int

    @property
    def rate(self) -> float | None:
        return self.people / self.of if self.of else None

    @property
    def percent(self) -> str:
        """``25%`` (one decimal under 10%), or ``–`` when nobody was reached."""
        rate = self.rate
        if rate is None:
            return "–"
        value = rate * 100
        return f"{value:.1f}%" if 0 < value < 10 else f"{value:.0f}%"


@dataclass(frozen=True)
class ChannelDeliveries:
    channel: str
    created: int  # rows in the outbox for this channel (every state)
    sent: int
    delivered: int | None  # reported on the phone (SMS only)

    @property
    def sent_percent(self) -> str:
        return f"{self.sent / self.created * 100:.0f}%" if self.created else "–"


@dataclass(frozen=True)
class PeopleFunnel:
    people_queued: int  # distinct members with any delivery
    people_reached: int  # distinct members with at least one delivery sent
    steps: list[Step]
    deliveries: list[ChannelDeliveries]

    @property
    def messages_sent(self) -> int:
        return sum(d.sent for d in self.deliveries)


def _people(campaign_id: int, *conditions: ColumnElement[bool]) -> int:
    return int(
        db.session.scalar(
            select(func.count(func.distinct(Delivery.member_id))).where(
                Delivery.campaign_id == campaign_id, *conditions
            )
        )
        or 0
    )


def people_funnel(campaign: Campaign) -> PeopleFunnel:
    """The campaign's funnel in people, and its deliveries per channel."""
    reached = _people(campaign.id, Delivery.state == DeliveryState.SENT)
    replied = int(
        db.session.scalar(
            select(func.count(func.distinct(Reply.member_id))).where(
                Reply.campaign_id == campaign.id, Reply.author == "member"
            )
        )
        or 0
    )
    steps = [
        Step(
            "opened or read it",
            _people(
                campaign.id, or_(Delivery.read_at.is_not(None), Delivery.opened_at.is_not(None))
            ),
            reached,
        ),
        Step("clicked a link", _people(campaign.id, Delivery.clicked_at.is_not(None)), reached),
        Step("said it was useful", _people(campaign.id, Delivery.useful_at.is_not(None)), reached),
        Step("replied", replied, reached),
        Step(
            "said “not for me”", _people(campaign.id, Delivery.not_for_me_at.is_not(None)), reached
        ),
        Step("unsubscribed", _people(campaign.id, Delivery.unsubscribed_at.is_not(None)), reached),
    ]
    rows = db.session.execute(
        select(
            Delivery.channel,
            func.count(),
            func.count(Delivery.sent_at),
            func.count(Delivery.delivered_at),
        )
        .where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.channel)
    ).all()
    found = {
        str(channel): (int(n), int(sent), int(delivered)) for channel, n, sent, delivered in rows
    }
    deliveries = []
    for channel in campaign.channel_list:
        created, sent, delivered = found.get(str(channel), (0, 0, 0))
        deliveries.append(
            ChannelDeliveries(str(channel), created, sent, delivered if channel == "sms" else None)
        )
    return PeopleFunnel(_people(campaign.id), reached, steps, deliveries)
