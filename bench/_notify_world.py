"""Members for the notifier benchmarks (not a benchmark itself): verified, holding a scope
and saying yes to it on some channels, written with one multi-row insert per table."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from app.accounts.models import Member
from app.consent.models import ConsentEvent, ConsentState, ConsentSubject
from app.consent.scopes import get_scope
from app.extensions import db
from app.rewards.models import Entitlement

CHUNK = 5_000


def add_members(
    count: int, now: datetime, *, scope: str = "newsletter", channels: Sequence[str] = ("email",)
) -> list[int]:
    """Add ``count`` members who earned ``scope`` and said yes to it a week before ``now``;
    returns their ids. Commits. Needs an app context."""
    since = now - timedelta(days=7)
    words = get_scope(scope)
    tag = secrets.token_hex(4)
    emails = [f"reader{n}-{tag}@example.com" for n in range(count)]
    _insert(
        Member,
        [
            {"email": e, "email_key": e, "created_at": since, "email_verified_at": since}
            for e in emails
        ],
    )
    by_email = dict(
        db.session.execute(
            select(Member.email, Member.id).where(Member.email.like(f"%-{tag}@example.com"))
        ).all()
    )
    ids = [by_email[e] for e in emails]
    _insert(
        Entitlement,
        [
            {"member_id": m, "reward": f"scope:{scope}", "earned_by": "account", "earned_at": since}
            for m in ids
        ],
    )
    _insert(ConsentSubject, [{"member_id": m, "salt": "s" * 32, "created_at": since} for m in ids])
    subjects = dict(
        db.session.execute(
            select(ConsentSubject.member_id, ConsentSubject.id).where(
                ConsentSubject.member_id >= min(ids)
            )
        ).all()
    )
    for channel in channels:
        prefix = f"{tag}-{channel}-"
        _insert(
            ConsentEvent,
            [
                {
                    "receipt": f"{prefix}{m}",
                    "subject_id": subjects[m],
                    "scope": scope,
                    "channel": channel,
                    "action": "grant",
                    "at": since,
                    "source": "preferences",
                    "wording": words.wording,
                    "wording_version": 1,
                    "wording_hash": words.wording_hash,
                }
                for m in ids
            ],
        )
        events = dict(
            db.session.execute(
                select(ConsentEvent.receipt, ConsentEvent.id).where(
                    ConsentEvent.receipt.like(f"{prefix}%")
                )
            ).all()
        )
        _insert(
            ConsentState,
            [
                {
                    "member_id": m,
                    "scope": scope,
                    "channel": channel,
                    "granted": True,
                    "wording_version": 1,
                    "wording_hash": words.wording_hash,
                    "granted_at": since,
                    "changed_at": since,
                    "event_id": events[f"{prefix}{m}"],
                }
                for m in ids
            ],
        )
    db.session.commit()
    return ids


def _insert(model: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])
