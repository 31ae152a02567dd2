"""Browsers' Web Push subscriptions: the address of the ``push`` channel.

The page asks the browser for notifications only after the member pressed yes on a scope's
sentence for browser notifications (the yes is a ledger grant with the source ``push``); the
browser's subscription (its push service endpoint and keys) is then posted here and kept, one
row per browser. A browser moves to whoever is signed in on it when it subscribes again.

When a push service answers that a subscription is gone (404 or 410: notifications were turned
off in that browser, or the browser dropped them), :func:`disable` marks it; when none of the
member's browsers is left, every ``push`` permission they had is revoked in the ledger, with
the words of what happened, so the member's page and the gate agree with the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from app.consent.errors import PushSubscriptionError
from app.consent.ledger.consents import Origin, revoke_consent, states_of
from app.consent.models import PushSubscription
from app.consent.terms import Channel, ConsentSource
from app.extensions import db
from app.outbound.webpush import Subscription, VapidKeys, check_subscription, vapid_keys

MAX_PER_MEMBER = 10  # browsers; the oldest goes first
# The push services of the browsers people use. A subscription's endpoint is chosen by the
# browser, so by whoever posts it: only these hosts (and their subdomains) are ever posted to.
PUSH_SERVICES = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Samsung Internet, Brave
    "android.googleapis.com",
    "updates.push.services.mozilla.com",  # Firefox
    "push.apple.com",  # Safari (web.push.apple.com)
    "notify.windows.com",  # Edge on Windows (*.notify.windows.com)
)
GONE_WORDS = (
    "Notifications were turned off in the browser: its push service answered that the "
    "subscription no longer exists."
)


def keys() -> VapidKeys:
    """The site's VAPID key pair, made in the instance folder on first use and read once per
    process."""
    found = current_app.extensions.get("pullfirst.vapid")
    if found is None:
        found = vapid_keys(Path(current_app.instance_path))
        current_app.extensions["pullfirst.vapid"] = found
    assert isinstance(found, VapidKeys)
    return found


def subject() -> str:
    """Who push services may contact about our notifications (the VAPID ``sub``)."""
    configured = current_app.config["PUSH_SUBJECT"]
    if configured:
        return str(configured)
    return "mailto:" + parseaddr(current_app.config["MAIL_FROM"])[1]


def read_subscription(data: Mapping[str, Any], *, allow_loopback: bool) -> Subscription:
    """What a browser posted (``PushSubscription.toJSON()``), checked. Raises
    :class:`PushSubscriptionError`."""
    try:
        subscription = check_subscription(data, allow_loopback=allow_loopback)
    except ValueError as exc:
        raise PushSubscriptionError(str(exc)) from None
    host = (urlsplit(subscription.endpoint).hostname or "").lower()
    known = any(host == s or host.endswith("." + s) for s in PUSH_SERVICES)
    if not known and not (allow_loopback and host in ("127.0.0.1", "localhost")):
        raise PushSubscriptionError(
            "This browser's push service is not one we send to. Notifications work in "
            "Chrome, Edge, Firefox and Safari."
        )
    return subscription


def subscribe(
    member_id: int, subscription: Subscription, browser: str, now: datetime
) -> PushSubscription:
    """Keep the browser's subscription for the member (again enabled if it was disabled).
    The caller commits."""
    row = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == subscription.endpoint)
    )
    if row is None:
        row = PushSubscription(endpoint=subscription.endpoint, created_at=now)
        db.session.add(row)
    row.member_id, row.p256dh, row.auth = member_id, subscription.p256dh, subscription.auth
    row.browser, row.disabled_at = browser[:120], None
    db.session.flush()
    kept = select(PushSubscription.id).where(PushSubscription.member_id == member_id)
    newest = kept.order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
    db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.member_id == member_id,
            PushSubscription.id.not_in(newest.limit(MAX_PER_MEMBER).scalar_subquery()),
        )
    )
    return row


def subscriptions_of(member_id: int) -> list[PushSubscription]:
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.member_id == member_id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )


def usable(member_id: int) -> list[Subscription]:
    return [
        Subscription(row.endpoint, row.p256dh, row.auth)
        for row in subscriptions_of(member_id)
        if row.disabled_at is None
    ]


def remove(member_id: int, subscription_id: int) -> bool:
    """The member forgets one browser. The caller commits."""
    result = db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.id == subscription_id, PushSubscription.member_id == member_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def disable(endpoint: str, now: datetime) -> int | None:
    """The push service said the subscription at ``endpoint`` is gone. Returns the member
    whose last browser it was (every ``push`` permission of theirs is then revoked), else
    None. The caller commits."""
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None or row.disabled_at is not None:
        return None
    row.disabled_at = now
    db.session.flush()
    if any(other.disabled_at is None for other in subscriptions_of(row.member_id)):
        return None
    origin = Origin(ConsentSource.PUSH)
    for (scope, channel), state in states_of(row.member_id).items():
        if channel == Channel.PUSH and state.granted:
            revoke_consent(row.member_id, scope, Channel.PUSH, origin, now, wording=GONE_WORDS)
    return row.member_id
