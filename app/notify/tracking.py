"""What comes back from sent messages through links: clicks, opens and unsubscribes.

Clicks count as engagement; opens (a pixel, off unless ``NOTIFY_OPEN_PIXEL``) never do, since
mail programs fetch images on their own. An unsubscribe revokes the scope on the channel the
message came by, with the source ``unsubscribe-link`` and the words shown with the control that
was used (the page's question and button, or the mail's footer for a one-click: see
:func:`mail_words`), and the revoke holds back whatever was still queued for that member, scope
and channel in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.members import get_member
from app.consent.gate.contacts import record_engagement
from app.consent.ledger import consents
from app.consent.scopes import find_scope
from app.consent.terms import Channel
from app.consent.words import link_words_unknown, one_click_words
from app.extensions import db
from app.notify.campaigns import promise_hash
from app.notify.models import Click, Delivery
from app.notify.states import DeliveryState
from app.notify.tokens import TrackedLink, Unsubscribe


def record_click(link: TrackedLink, now: datetime) -> None:
    """Record that the delivery's link was followed (the redirect happens whatever)."""
    delivery = db.session.get(Delivery, link.delivery_id)
    if delivery is None or delivery.state != DeliveryState.SENT:
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
    scope: str
    scope_title: str
    channel: str
    revoked: bool  # False when nothing was granted any more


def describe(link: Unsubscribe) -> Unsubscribed | None:
    """What the link would stop; None when the member no longer exists."""
    member = get_member(link.member_id)
    if member is None or not member.is_active:
        return None
    scope = find_scope(link.scope)
    state = consents.states_of(member.id).get((link.scope, link.channel))
    return Unsubscribed(
        link.scope,
        scope.title if scope else link.scope,
        link.channel,
        bool(state and state.granted),
    )


def mail_words(link: Unsubscribe) -> str:
    """What a one-click unsubscribe records: a mail program's POST to the address of the
    mail's ``List-Unsubscribe`` header (RFC 8058) shows no page of ours, and the program's own
    button is not ours to know. What the member read of ours about stopping that mail is its
    footer: "You get this because you said yes to <title>: <promise>" and, beside it, the link
    "Unsubscribe". Both are rendered by :func:`app.consent.words.one_click_words` from the
    scope's title and promise, in the mail and here, so the record is that footer sentence and
    that link text, one a line.

    Rendering again is honest only while the promise is the one the mail carried: a campaign
    keeps the SHA-256 of the promise it was written and sent under, and when the scope's
    promise no longer has that hash (or the link is not an email's, or names no delivery of
    this member), the record says that the words shown with the link are not on file
    (:func:`~app.consent.words.link_words_unknown`) rather than showing today's words. A
    scope renamed since the mail was sent is the one change this cannot see."""
    scope = find_scope(link.scope)
    title = scope.title if scope else link.scope
    delivery = db.session.get(Delivery, link.delivery_id) if link.delivery_id is not None else None
    if (
        scope is None
        or link.channel != Channel.EMAIL
        or delivery is None
        or delivery.member_id != link.member_id
        or delivery.campaign.promise_hash != promise_hash(scope)
    ):
        return link_words_unknown(title, link.channel)
    return one_click_words(scope.title, scope.promise)


def unsubscribe(
    link: Unsubscribe, origin: consents.Origin, now: datetime, wording: str
) -> Unsubscribed | None:
    """Revoke (member, scope, channel) from an unsubscribe link, recording ``wording``: what
    the page or the mail showed with the control that was used. The caller commits."""
    about = describe(link)
    if about is None:
        return None
    event = consents.revoke_consent(
        link.member_id, link.scope, link.channel, origin, now, wording=wording
    )
    if link.delivery_id is not None:
        delivery = db.session.get(Delivery, link.delivery_id)
        if (
            delivery is not None
            and delivery.member_id == link.member_id
            and delivery.unsubscribed_at is None
            and event is not None
        ):
            delivery.unsubscribed_at = now
    return Unsubscribed(about.scope, about.scope_title, about.channel, event is not None)
