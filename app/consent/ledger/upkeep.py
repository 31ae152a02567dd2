"""Regular upkeep: permissions that lapsed (``expires_after_days``) are revoked in the ledger
with source ``expiry``, stale subscription requests are dropped, and so are used Telegram link
tokens and the ids of Telegram updates handled long ago. Run by ``flask consent
tidy``, at start-up, and by the notifier's worker whenever it likes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from app.consent import phones, telegram
from app.consent.ledger.consents import Origin, revoke_consent
from app.consent.ledger.subscriptions import purge_requests
from app.consent.models import ConsentState, Contact
from app.consent.scopes import all_scopes
from app.consent.terms import GATED_KINDS, ConsentSource
from app.consent.words import lapsed_words
from app.extensions import db


@dataclass(frozen=True)
class Tidied:
    lapsed: int
    requests: int
    telegram: int  # used or expired link tokens, and ids of updates handled long ago


def expire_consents(now: datetime) -> int:
    """Revoke every grant of a scope with ``expires_after_days`` that neither the grant nor an
    engagement renewed within that many days; returns how many were revoked."""
    revoked = 0
    for scope in all_scopes().values():
        if scope.expires_after_days is None:
            continue
        bound = now - timedelta(days=scope.expires_after_days)
        renewed = exists().where(
            Contact.member_id == ConsentState.member_id,
            Contact.scope == scope.slug,
            Contact.kind.in_(sorted(GATED_KINDS)),
            Contact.sent_at <= now,
            Contact.last_engaged_at > bound,
        )
        lapsed = db.session.execute(
            select(ConsentState.member_id, ConsentState.channel).where(
                ConsentState.scope == scope.slug,
                ConsentState.granted.is_(True),
                ConsentState.granted_at <= bound,
                ~renewed,
            )
        ).all()
        for member_id, channel in lapsed:
            # Nobody pressed or typed anything: the record says so, and why.
            wording = lapsed_words(scope.title, channel, scope.expires_after_days)
            if revoke_consent(
                member_id, scope.slug, channel, Origin(ConsentSource.EXPIRY), now, wording=wording
            ):
                revoked += 1
    return revoked


def tidy(now: datetime) -> Tidied:
    """Every kind of upkeep; the caller commits."""
    return Tidied(
        expire_consents(now),
        purge_requests(now),
        telegram.forget_old(now) + phones.forget_old(now),
    )
