"""Rows for gate tests, written straight into the tables the gate reads (no web round trips),
so that a test can lay out any history: members, entitlements, consents, contacts, pauses."""

from __future__ import annotations

import secrets
from datetime import datetime

from app.accounts.models import Member
from app.consent.models import (
    ConsentEvent,
    ConsentPreferences,
    ConsentState,
    ConsentSubject,
    Contact,
    PhoneNumber,
    PushSubscription,
    ScopePause,
    Suppression,
    TelegramChat,
    WebhookEndpoint,
)
from app.consent.scopes import find_scope
from app.consent.terms import SuppressionReason
from app.extensions import db
from app.rewards.models import Entitlement


def add_member(
    n: int, at: datetime, *, verified: bool = True, active: bool = True, time_zone: str = "UTC"
) -> Member:
    email = f"member{n}-{secrets.token_hex(3)}@example.com"
    member = Member(
        email=email,
        email_key=email,
        created_at=at,
        time_zone=time_zone,
        email_verified_at=at if verified else None,
        deleted_at=None if active else at,
    )
    db.session.add(member)
    db.session.flush()
    return member


def earn(member_id: int, scope: str, at: datetime) -> None:
    db.session.add(
        Entitlement(member_id=member_id, reward=f"scope:{scope}", earned_by="account", earned_at=at)
    )


def consent(
    member_id: int,
    scope: str,
    channel: str,
    *,
    granted: bool,
    version: int,
    at: datetime,
    wording_hash: str | None = None,
) -> None:
    """A ledger event and its state. ``wording_hash`` is what the member said yes to; by
    default the current words of the app's scope of that name (for a scope the app does not
    know, words no scope has)."""
    if wording_hash is None:
        known = find_scope(scope)
        wording_hash = known.wording_hash if known is not None else "0" * 64
    subject = db.session.query(ConsentSubject).filter_by(member_id=member_id).one_or_none()
    if subject is None:
        subject = ConsentSubject(member_id=member_id, salt="s" * 32, created_at=at)
        db.session.add(subject)
        db.session.flush()
    event = ConsentEvent(
        receipt=secrets.token_urlsafe(12),
        subject_id=subject.id,
        scope=scope,
        channel=channel,
        action="grant" if granted else "revoke",
        at=at,
        source="preferences",
        wording="words",
        wording_version=version,
        wording_hash=wording_hash,
    )
    db.session.add(event)
    db.session.flush()
    db.session.merge(
        ConsentState(
            member_id=member_id,
            scope=scope,
            channel=channel,
            granted=granted,
            wording_version=version,
            wording_hash=wording_hash,
            granted_at=at if granted else None,
            changed_at=at,
            event_id=event.id,
        )
    )


def suppress(member: Member, at: datetime) -> None:
    db.session.add(Suppression(address_key=member.email_key, reason="hard-bounce", at=at))


def endpoint(member_id: int, n: int, at: datetime, *, verified: bool, disabled: bool) -> None:
    db.session.add(
        WebhookEndpoint(
            member_id=member_id,
            url=f"https://hooks.example/{n}",
            secret="whsec_AAAA",
            created_at=at,
            verified_at=at if verified else None,
            disabled_at=at if disabled else None,
        )
    )


def telegram_chat(member_id: int, at: datetime, *, blocked: bool = False) -> None:
    db.session.add(
        TelegramChat(
            member_id=member_id,
            chat_id=900_000 + member_id,
            linked_at=at,
            blocked_at=at if blocked else None,
        )
    )


def phone(member_id: int, at: datetime, *, failed: bool = False) -> None:
    number = f"+1201555{member_id % 10_000:04d}"
    db.session.add(PhoneNumber(member_id=member_id, number=number, verified_at=at))
    if failed:
        db.session.add(
            Suppression(address_key=number, reason=SuppressionReason.NUMBER_FAILED, at=at)
        )


def browser(member_id: int, n: int, at: datetime, *, disabled: bool = False) -> None:
    db.session.add(
        PushSubscription(
            member_id=member_id,
            endpoint=f"https://fcm.googleapis.com/fcm/send/{member_id}-{n}",
            p256dh="BPd" + "A" * 84,
            auth="A" * 22,
            browser="test",
            created_at=at,
            disabled_at=at if disabled else None,
        )
    )


def preferences(
    member_id: int,
    at: datetime,
    *,
    paused_until: datetime | None = None,
    quiet: tuple[int, int] | None = None,
) -> None:
    db.session.add(
        ConsentPreferences(
            member_id=member_id,
            paused_until=paused_until,
            quiet_start=quiet[0] if quiet else None,
            quiet_end=quiet[1] if quiet else None,
            updated_at=at,
        )
    )


def pause(
    member_id: int, scope: str, *, not_for_me_at: datetime | None, resumed_at: datetime | None
) -> None:
    db.session.add(
        ScopePause(
            member_id=member_id, scope=scope, not_for_me_at=not_for_me_at, resumed_at=resumed_at
        )
    )


def contact(
    member_id: int,
    scope: str,
    *,
    campaign: str,
    kind: str,
    channel: str,
    sent_at: datetime,
    engaged_at: datetime | None = None,
) -> None:
    db.session.add(
        Contact(
            member_id=member_id,
            scope=scope,
            channel=channel,
            campaign=campaign,
            kind=kind,
            ref=secrets.token_hex(8),
            sent_at=sent_at,
            engaged_at=engaged_at,
            last_engaged_at=engaged_at,
        )
    )
