"""Demo data for ``flask serve``: one reader with a consent history and a few weekly letters,
so the marketers' member page and ``flask consent explain`` have something to show; and the
weekly letter, said yes to by most of the demo readers of :mod:`app.engage.crowd`, so a
campaign's filter and the digest reach somebody."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from app import clock
from app.accounts import members
from app.accounts.models import Member
from app.consent.gate import contacts
from app.consent.ledger import consents, preferences
from app.consent.models import ConsentState
from app.consent.scopes import find_scope
from app.consent.terms import CampaignKind, ConsentSource
from app.consent.words import stop_sentence
from app.extensions import db

DEMO_READER = "demo.reader@example.com"
CROWD_ADDRESSES = "demo.reader__@example.com"  # the demo readers of app.engage.crowd


def ensure_demo_reader() -> str | None:
    """Create the demo reader once; later starts leave them (and any change) alone."""
    if members.find_by_email(DEMO_READER) is not None:
        return None
    scope = find_scope("newsletter")
    if scope is None:
        return None
    now = clock.now()
    joined = now - timedelta(days=40)
    reader = members.create_member(
        DEMO_READER, None, now=joined, display_name="Demo reader", verified=True
    )
    members.update_profile(reader, reader.display_name, "Europe/Berlin")
    origin = consents.Origin(ConsentSource.DEMO, "/subscribe/newsletter")
    consents.grant_consent(reader.id, scope, "email", scope.wording, origin, joined)
    consents.grant_consent(reader.id, scope, "inbox", scope.wording, origin, joined)
    consents.revoke_consent(
        reader.id,
        "newsletter",
        "inbox",
        origin,
        now - timedelta(days=20),
        wording=stop_sentence(scope.title, "inbox"),
    )
    for week in range(1, 5):
        sent = now - timedelta(days=7 * week + 1)
        ref = f"demo-letter-{week}"
        contacts.record_contact(
            reader.id,
            "newsletter",
            "email",
            campaign=ref,
            kind=CampaignKind.EDITORIAL,
            ref=ref,
            sent_at=sent,
        )
        if week % 2:
            contacts.record_engagement(ref, sent + timedelta(hours=3), "click")
    preferences.set_quiet_hours(reader.id, time(22, 0), time(7, 0), now)
    db.session.commit()
    return f"created {DEMO_READER} with a consent history"


def ensure_demo_crowd_consents() -> str | None:
    """Three in four demo readers said yes to the weekly letter by email and in the inbox,
    a day after they joined; once (readers who have any state for the letter are left alone)."""
    scope = find_scope("newsletter")
    if scope is None:
        return None
    decided = select(ConsentState.member_id).where(ConsentState.scope == scope.slug)
    crowd = db.session.scalars(
        select(Member)
        .where(Member.email.like(CROWD_ADDRESSES), Member.id.not_in(decided))
        .order_by(Member.id)
    ).all()
    origin = consents.Origin(ConsentSource.DEMO, "/subscribe/newsletter")
    said_yes = 0
    for reader in crowd:
        if reader.id % 4 == 3:  # one in four never said yes
            continue
        for channel in ("email", "inbox"):
            consents.grant_consent(
                reader.id,
                scope,
                channel,
                scope.wording,
                origin,
                reader.created_at + timedelta(days=1),
            )
        said_yes += 1
    db.session.commit()
    return f"{said_yes} demo readers said yes to {scope.title}" if said_yes else None
