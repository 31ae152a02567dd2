"""What the notifier adds to a message's "why did I get this?" page: when the campaign was
for some members only, the answers, reading and engagement that put this member in.

The page's link names the member, scope, channel, the moment the message left and its
delivery (see :mod:`app.consent.gate.why`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.consent.gate.why import WhyLink
from app.extensions import db
from app.notify.models import Campaign, Delivery
from app.notify.states import DeliveryState
from app.notify.targeting import TargetingError, parsed
from app.notify.targeting_eval import because

SEND_SLACK = timedelta(hours=1)  # the link is made just before the send, recorded after


def campaign_of(link: WhyLink) -> Campaign | None:
    """The campaign of the link's message: its own delivery's when the link names one (links
    made since they do), else that of the member's first delivery on the scope and channel
    sent from the link's moment on."""
    query = select(Campaign).join(Delivery, Delivery.campaign_id == Campaign.id)
    if link.delivery_id is not None:
        query = query.where(Delivery.id == link.delivery_id, Delivery.member_id == link.member_id)
    else:
        query = (
            query.where(
                Delivery.member_id == link.member_id,
                Delivery.channel == link.channel,
                Delivery.state == DeliveryState.SENT,
                Campaign.scope == link.scope,
                Delivery.sent_at >= link.sent_at,
                Delivery.sent_at < link.sent_at + SEND_SLACK,
            )
            .order_by(Delivery.sent_at, Delivery.id)
            .limit(1)
        )
    return db.session.scalar(query)


def filter_of(link: WhyLink) -> str | None:
    """The audience filter of the campaign the link's message belonged to, if it had one."""
    campaign = campaign_of(link)
    return campaign.audience_filter if campaign is not None else None


def targeting_reasons(link: WhyLink) -> list[str]:
    """The sentences saying which answers or reading put the member in, as of the moment the
    message was sent (none for a campaign to the whole audience)."""
    text = filter_of(link)
    if not text:
        return []
    try:
        node = parsed(text)
    except TargetingError:
        return []
    return because(node, link.member_id, link.sent_at)
