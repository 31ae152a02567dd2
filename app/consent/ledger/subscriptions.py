"""Double opt-in subscriptions: an address asks for a scope, a mailed link confirms it.

1. :func:`request_subscription` stores what was asked (address, scope, channel, the exact
   wording shown, the form and page) and says whether a confirmation mail may go out: at most
   one per address per ten minutes, whoever asks. Nothing reveals whether the address has an
   account.
2. The mail carries :func:`confirmation_token`, valid for seven days.
3. :func:`confirm_subscription` (the link's button) confirms the address, creating a
   passwordless member when there is none, which records ``account`` through verification;
   then grants the consent with the wording shown, and records ``subscribe:<scope>``. The view
   signs the person in: this is the one mailed link, besides the sign-in link, that does.

Unconfirmed requests are dropped after seven days by :func:`purge_requests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app import signing
from app.accounts import members
from app.accounts.models import Member
from app.consent.errors import NotSubscribable, WordingChanged
from app.consent.gate import contacts
from app.consent.ledger.consents import Origin, grant_consent
from app.consent.models import ConfirmationMail, ConsentEvent, SubscriptionRequest
from app.consent.scopes import Scope, find_scope
from app.consent.terms import Channel
from app.engage.actions import record_action
from app.extensions import db
from app.rewards.entitlements import grant, holds
from app.rewards.rules import pattern_matches

REQUEST_LIFETIME = timedelta(days=7)
MAIL_INTERVAL = timedelta(minutes=10)
LINK_PURPOSE = "consent.subscribe"
CHANNEL = Channel.EMAIL


def subscribable_scope(slug: str) -> Scope:
    """The scope a visitor may subscribe to by address; raises :class:`NotSubscribable`."""
    scope = find_scope(slug)
    if scope is None or not scope.visitor_subscribable:
        raise NotSubscribable("There is no subscription of that name.")
    return scope


def request_subscription(
    email: str, scope: Scope, wording: str, origin: Origin, now: datetime
) -> SubscriptionRequest:
    """Store (or renew) the request of ``email`` for ``scope``. Raises
    :class:`~app.accounts.members.InvalidEmail` or :class:`WordingChanged`."""
    address = members.clean_email(email)
    if wording != scope.wording:
        raise WordingChanged("The wording of this subscription changed. Read it again below.")
    key = members.email_key(address)
    values = {
        "email": address,
        "channel": CHANNEL,
        "wording": wording,
        "wording_version": scope.consent_version,
        "source": origin.source[:64],
        "page": origin.page[:300] if origin.page else None,
        "requested_at": now,
        "confirmed_at": None,
    }
    insert = (
        postgresql.insert(SubscriptionRequest)
        if db.dialect == "postgresql"
        else sqlite.insert(SubscriptionRequest)
    )
    statement = insert.values(email_key=key, scope=scope.slug, **values)
    db.session.execute(
        statement.on_conflict_do_update(index_elements=["email_key", "scope"], set_=values)
    )
    request = db.session.scalars(
        select(SubscriptionRequest)
        .where(SubscriptionRequest.email_key == key, SubscriptionRequest.scope == scope.slug)
        .execution_options(populate_existing=True)
    ).one()
    return request


def claim_mail_slot(email_key: str, now: datetime) -> bool:
    """Whether a confirmation mail may go to this address now; claims the ten-minute slot
    atomically, so concurrent requests send one mail."""
    insert = (
        postgresql.insert(ConfirmationMail)
        if db.dialect == "postgresql"
        else sqlite.insert(ConfirmationMail)
    )
    statement = insert.values(email_key=email_key, sent_at=now)
    claimed = db.session.scalar(
        statement.on_conflict_do_update(
            index_elements=["email_key"],
            set_={"sent_at": now},
            where=ConfirmationMail.sent_at <= now - MAIL_INTERVAL,
        ).returning(ConfirmationMail.email_key)
    )
    return claimed is not None


def confirmation_token(request: SubscriptionRequest) -> str:
    return signing.sign(LINK_PURPOSE, {"r": request.id, "a": request.email_key}, REQUEST_LIFETIME)


@dataclass(frozen=True)
class Pending:
    """What a confirmation link points at."""

    request: SubscriptionRequest
    scope: Scope


def check_confirmation(token: str, now: datetime, *, lock: bool = False) -> Pending:
    """The request behind ``token``, without confirming it (``lock`` holds its row until the
    transaction ends, so two clicks confirm once). Raises :class:`~app.signing.TokenForged`,
    :class:`~app.signing.TokenExpired` (also when the request is older than seven days or its
    scope is no longer offered) or :class:`~app.signing.TokenUsed` (already confirmed)."""
    payload = signing.unsign(LINK_PURPOSE, token)
    query = select(SubscriptionRequest).where(
        SubscriptionRequest.id == int(payload.get("r", 0) or 0)
    )
    if lock:
        query = query.with_for_update()
    request = db.session.scalar(query.execution_options(populate_existing=True))
    if request is None or request.email_key != payload.get("a"):
        raise signing.TokenForged("no such request")
    if request.confirmed_at is not None:
        raise signing.TokenUsed("already confirmed")
    if request.requested_at + REQUEST_LIFETIME < now:
        raise signing.TokenExpired(payload)
    scope = find_scope(request.scope)
    if scope is None or not scope.visitor_subscribable:
        raise signing.TokenExpired(payload)
    return Pending(request, scope)


@dataclass(frozen=True)
class Subscribed:
    member: Member
    scope: Scope
    event: ConsentEvent | None  # None when the same consent already stood
    new_member: bool


def subscribe(
    member: Member, scope: Scope, wording: str, origin: Origin, now: datetime
) -> ConsentEvent | None:
    """A member with a confirmed address subscribes: earn the scope through ``subscribe`` when
    that is its rule, grant the consent, then record ``subscribe:<scope>``. Raises what
    :func:`~app.consent.ledger.consents.grant_consent` raises."""
    action = f"subscribe:{scope.slug}"
    if not holds(member.id, scope.reward) and any(
        pattern_matches(p, action) for p in scope.earned_by
    ):
        grant(member.id, scope.reward, action, now)
    event = grant_consent(member.id, scope, CHANNEL, wording, origin, now)
    record_action(member.id, action, now)
    return event


def confirm_subscription(token: str, wording: str, origin: Origin, now: datetime) -> Subscribed:
    """Confirm the request behind ``token`` with the ``wording`` the confirmation page
    showed. ``origin.client`` is the confirming browser; the source and page are the
    request's. Raises what :func:`check_confirmation` raises, and :class:`WordingChanged`."""
    pending = check_confirmation(token, now, lock=True)
    request, scope = pending.request, pending.scope
    if wording != scope.wording:
        raise WordingChanged("The wording of this subscription changed. Read it again.")
    member = members.find_by_email(request.email)
    new_member = member is None
    if member is None:
        member = members.create_member(request.email, None, now=now)
    elif not member.is_active:
        raise signing.TokenForged("account closed")
    members.mark_verified(member, now)
    contacts.lift_suppression(member.email)
    event = subscribe(
        member, scope, wording, Origin(request.source, request.page, origin.client), now
    )
    request.confirmed_at = now
    db.session.flush()
    return Subscribed(member, scope, event, new_member)


def purge_requests(now: datetime) -> int:
    """Drop requests older than seven days (confirmed or not: the ledger holds what matters)
    and mail slots older than a day. Returns how many requests went."""
    result = db.session.execute(
        delete(SubscriptionRequest).where(
            SubscriptionRequest.requested_at < now - REQUEST_LIFETIME,
            or_(
                SubscriptionRequest.confirmed_at.is_(None),
                SubscriptionRequest.confirmed_at < now - REQUEST_LIFETIME,
            ),
        )
    )
    db.session.execute(
        delete(ConfirmationMail).where(ConfirmationMail.sent_at < now - timedelta(days=1))
    )
    return int(getattr(result, "rowcount", 0) or 0)
