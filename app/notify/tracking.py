"""What comes back from sent messages through links: clicks, opens and unsubscribes.

Clicks count as engagement; opens (a pixel, off unless ``NOTIFY_OPEN_PIXEL``) never do, since
mail programs fetch images on their own. An unsubscribe revokes the scope on the channel the
message came by, with the source ``unsubscribe-link``, and the revoke holds back whatever was
still queued for that member, scope and channel in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.members import get_member
from app.consent import ledger
from app.consent.contacts import record_engagement
from app.consent.scopes import find_scope
from app.extensions import db
from app.notify.models import Click, Delivery
from app.notify.tokens import TrackedLink, Unsubscribe


def record_click(link: TrackedLink, now: datetime) -> None:
    """Record that the delivery's link was followed (the redirect happens whatever)."""
    delivery = db.session.get(Delivery, link.delivery_id)
    if delivery is None or delivery.state != "sent":
        return
    db.session.add(Click(delivery_id=delivery.id, url=link.url, at=now))
    if delivery.clicked_at is None:
        delivery.clicked_at = now
    record_engagement(delivery.ref, now, "click")


def record_open(delivery_id: int, now: datetime) -> None:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is not None and delivery.opened_at is None:
        delivery.opened_at = now


@dataclass(frozen=True)
class Unsubscribed:
    scope_title: str
    channel: str
    revoked: bool  # False when nothing was granted any more


def describe(link: Unsubscribe) -> Unsubscribed | None:
    """What the link would stop; None when the member no longer exists."""
    member = get_member(link.member_id)
    if member is None or not member.is_active:
        return None
    scope = find_scope(link.scope)
    state = ledger.states_of(member.id).get((link.scope, link.channel))
    return Unsubscribed(scope.title if scope else link.scope, link.channel,
                        bool(state and state.granted))


def unsubscribe(link: Unsubscribe, origin: ledger.Origin, now: datetime) -> Unsubscribed | None:
    """Revoke (member, scope, channel) from an unsubscribe link. The caller commits."""
    about = describe(link)
    if about is None:
        return None
    event = ledger.revoke_consent(link.member_id, link.scope, link.channel, origin, now)
    if link.delivery_id is not None:
        delivery = db.session.get(Delivery, link.delivery_id)
        if delivery is not None and delivery.member_id == link.member_id \
                and delivery.unsubscribed_at is None and event is not None:
            delivery.unsubscribed_at = now
    return Unsubscribed(about.scope_title, about.channel, event is not None)
