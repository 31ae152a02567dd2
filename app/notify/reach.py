"""How many people and messages a marketer's button acts on, in one sentence: "Send to 212
people: 180 by email, 95 in the inbox, 12 by Telegram (287 messages)".

*Send* counts with the audience preview's own code (:func:`app.notify.preview.preview_audience`
and the campaign's filter), so the confirmation and the preview never disagree. *Cancel* counts
the deliveries still waiting in the outbox (none before the campaign is sent: then it counts
who the send would have reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.consent.scopes import Scope
from app.consent.terms import Channel
from app.extensions import db
from app.notify.models import Campaign, Delivery
from app.notify.preview import preview_audience, preview_targeting
from app.notify.states import WAITING

#: A channel as a marketer's sentence names it ("180 by email").
BY_CHANNEL: dict[str, str] = {
    Channel.EMAIL: "by email",
    Channel.INBOX: "in the inbox",
    Channel.WEBHOOK: "by webhook",
    Channel.TELEGRAM: "by Telegram",
    Channel.SMS: "by text message",
    Channel.PUSH: "as browser notifications",
}


@dataclass(frozen=True)
class Reach:
    """``people`` distinct members, ``per_channel`` messages on each channel (one per member
    and channel), in the campaign's channel order."""

    people: int
    per_channel: dict[str, int]

    @property
    def messages(self) -> int:
        return sum(self.per_channel.values())

    def sentence(self) -> str:
        """``212 people: 180 by email, 95 in the inbox (275 messages)``, channels in the
        order of :data:`BY_CHANNEL`."""
        who = f"{self.people} {'person' if self.people == 1 else 'people'}"
        order = list(BY_CHANNEL)
        ordered = sorted(
            self.per_channel.items(),
            key=lambda item: order.index(item[0]) if item[0] in order else len(order),
        )
        parts = [f"{n} {BY_CHANNEL.get(c, c)}" for c, n in ordered]
        messages = f"{self.messages} {'message' if self.messages == 1 else 'messages'}"
        return f"{who}: {', '.join(parts)} ({messages})" if parts else who


def send_reach(campaign: Campaign, scope: Scope, now: datetime) -> Reach:
    """Who sending ``campaign`` now would reach: the audience preview, narrowed by the
    campaign's filter (nobody on every channel when the filter no longer fits)."""
    previews = preview_audience(scope, campaign.channel_list, now, campaign.ref)
    members = {channel: p.members for channel, p in previews.items()}
    targeted = preview_targeting(campaign.audience_filter, previews, now)
    if targeted is not None:
        kept = targeted.explanation.kept if targeted.explanation is not None else frozenset()
        members = {channel: ids & kept for channel, ids in members.items()}
    people = set().union(*members.values()) if members else set()
    return Reach(len(people), {channel: len(ids) for channel, ids in members.items()})


def waiting_reach(campaign: Campaign) -> Reach:
    """The campaign's deliveries still waiting for a worker: what cancelling stops."""
    where = (Delivery.campaign_id == campaign.id, Delivery.state.in_(WAITING))
    rows = dict(
        db.session.execute(
            select(Delivery.channel, func.count()).where(*where).group_by(Delivery.channel)
        ).all()
    )
    people = db.session.scalar(select(func.count(func.distinct(Delivery.member_id))).where(*where))
    per_channel = {str(c): int(rows.get(c, 0)) for c in campaign.channel_list}
    return Reach(int(people or 0), per_channel)
