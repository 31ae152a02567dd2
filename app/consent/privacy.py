"""What the consent area holds about a member, for the data export; and what it does when the
member is deleted (record the end of every standing yes, pseudonymise the ledger, forget the
rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select

from app.accounts.members import get_member
from app.accounts.privacy import MemberDeleting
from app.consent import phones, push, telegram, webhooks
from app.consent.gate import contacts
from app.consent.ledger import consents, preferences
from app.consent.models import (
    ConfirmationMail,
    PhoneCodeSent,
    SmsMessage,
    SubscriptionRequest,
    Suppression,
)
from app.consent.scopes import find_scope
from app.consent.terms import ConsentSource
from app.consent.words import deleted_words
from app.extensions import db


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _clock(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def export_consent(member_id: int) -> dict[str, Any]:
    """Everything the consent area holds about the member, as JSON values. Webhook secrets
    are left out: they are keys, not data about the member."""
    member = get_member(member_id)
    prefs = preferences.preferences_of(member_id)
    requests: list[SubscriptionRequest] = (
        []
        if member is None
        else list(
            db.session.scalars(
                select(SubscriptionRequest).where(SubscriptionRequest.email_key == member.email_key)
            )
        )
    )
    return {
        "permissions": [
            {
                "scope": s.scope,
                "channel": s.channel,
                "granted": s.granted,
                "wording_version": s.wording_version,
                "granted_at": _iso(s.granted_at),
                "changed_at": _iso(s.changed_at),
            }
            for s in consents.states_of(member_id).values()
        ],
        "consent_history": [
            {
                "receipt": e.receipt,
                "scope": e.scope,
                "channel": e.channel,
                "action": e.action,
                "at": _iso(e.at),
                "source": e.source,
                "page": e.page,
                "wording": e.wording,
                "wording_version": e.wording_version,
                "wording_sha256": e.wording_hash,
                "client_hash": e.client_hash,
                "typed": e.typed,
            }
            for e in consents.history(member_id)
        ],
        "preferences": {
            "paused_until": _iso(prefs.paused_until),
            "quiet_hours_start": _clock(prefs.quiet_start),
            "quiet_hours_end": _clock(prefs.quiet_end),
        },
        "paused_scopes": [
            {
                "scope": p.scope,
                "not_for_me_at": _iso(p.not_for_me_at),
                "resumed_at": _iso(p.resumed_at),
            }
            for p in contacts.pauses_of(member_id).values()
        ],
        "webhook_endpoints": [
            {
                "url": w.url,
                "created_at": _iso(w.created_at),
                "verified_at": _iso(w.verified_at),
                "disabled_at": _iso(w.disabled_at),
                "disabled_reason": w.disabled_reason,
            }
            for w in webhooks.endpoints_of(member_id)
        ],
        "messages": [
            {
                "scope": c.scope,
                "channel": c.channel,
                "campaign": c.campaign,
                "kind": c.kind,
                "sent_at": _iso(c.sent_at),
                "engaged_at": _iso(c.engaged_at),
                "last_engaged_at": _iso(c.last_engaged_at),
                "engaged_how": c.engaged_how,
            }
            for c in contacts.contacts_of(member_id, limit=100_000)
        ],
        "subscription_requests": [
            {
                "scope": r.scope,
                "channel": r.channel,
                "wording": r.wording,
                "requested_at": _iso(r.requested_at),
                "confirmed_at": _iso(r.confirmed_at),
            }
            for r in requests
        ],
        "email_suppressed": member is not None and contacts.is_suppressed(member.email),
        "telegram": None
        if (chat := telegram.chat_of(member_id)) is None
        else {
            "chat_id": chat.chat_id,
            "username": chat.username,
            "linked_at": _iso(chat.linked_at),
            "blocked_at": _iso(chat.blocked_at),
        },
        "phone": None
        if (phone := phones.number_of(member_id)) is None
        else {
            "number": phone.number,
            "verified_at": _iso(phone.verified_at),
            "failed_for_good": phones.is_failed(phone.number),
        },
        "text_messages": [
            {
                "direction": t.direction,
                "number": t.number,
                "kind": t.kind,
                "keyword": t.keyword,
                "text": t.text,
                "state": t.state,
                "at": _iso(t.at),
            }
            for t in db.session.scalars(
                select(SmsMessage).where(SmsMessage.member_id == member_id).order_by(SmsMessage.id)
            )
        ],
        "browsers": [
            {
                "browser": b.browser,
                "push_service": urlsplit(b.endpoint).netloc,
                "created_at": _iso(b.created_at),
                "disabled_at": _iso(b.disabled_at),
            }
            for b in push.subscriptions_of(member_id)
        ],
    }


def on_member_deleting(event: MemberDeleting) -> None:
    """End every yes that still stands with a revoke (source ``deletion``; nobody pressed a
    stop, and its words say so and why), pseudonymise the member's ledger and forget what is
    keyed by their address; the rest (states, preferences, pauses, contacts, endpoints, the
    Telegram chat and its link tokens) goes with the member row. Earlier events are not touched."""
    for (slug, channel), state in consents.states_of(event.member_id).items():
        if state.granted:
            scope = find_scope(slug)
            consents.revoke_consent(
                event.member_id,
                slug,
                channel,
                consents.Origin(ConsentSource.DELETION),
                event.at,
                wording=deleted_words(scope.title if scope else slug, channel),
            )
    consents.pseudonymise(event.member_id, event.at)
    member = get_member(event.member_id)
    if member is None:
        return
    for model in (SubscriptionRequest, ConfirmationMail):
        db.session.execute(delete(model).where(model.email_key == member.email_key))
    db.session.execute(delete(Suppression).where(Suppression.address_key == member.email_key))
    phone = phones.number_of(event.member_id)
    numbers = {phone.number} if phone is not None else set()
    numbers |= set(
        db.session.scalars(select(SmsMessage.number).where(SmsMessage.member_id == event.member_id))
    )
    db.session.execute(
        delete(SmsMessage).where(
            or_(SmsMessage.member_id == event.member_id, SmsMessage.number.in_(numbers))
        )
    )
    db.session.execute(
        delete(PhoneCodeSent).where(
            or_(PhoneCodeSent.member_id == event.member_id, PhoneCodeSent.number.in_(numbers))
        )
    )
    db.session.execute(delete(Suppression).where(Suppression.address_key.in_(numbers)))
