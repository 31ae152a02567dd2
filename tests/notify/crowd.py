"""Many members at once for the fault tests: rows written with one multi-row insert per table
(the ``audience`` fixture adds members one by one, which is too slow for thousands).

Each member is verified, earned the scope and said yes to it on the given channels a week
before ``at``, exactly as :class:`tests.notify.conftest.Audience` lays them out.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import insert, select

CHUNK = 2_000


@dataclass(frozen=True)
class Crowd:
    """The members added: ids in insertion order and each one's address."""

    ids: list[int]
    emails: dict[int, str]


def add_crowd(
    app: Flask,
    count: int,
    at: datetime,
    *,
    scope: str = "newsletter",
    channels: Sequence[str] = ("email",),
    names: Sequence[str] | None = None,
) -> Crowd:
    """Add ``count`` members; ``names`` gives their display names (default: none)."""
    from app.accounts.models import Member
    from app.consent.models import ConsentEvent, ConsentState, ConsentSubject
    from app.consent.scopes import get_scope
    from app.extensions import db
    from app.rewards.models import Entitlement

    since = at - timedelta(days=7)
    tag = secrets.token_hex(4)
    emails = [f"crowd{n}-{tag}@example.com" for n in range(count)]
    with app.app_context():
        known = get_scope(scope)
        words, words_hash = known.wording, known.wording_hash
        for start in range(0, count, CHUNK):
            db.session.execute(
                insert(Member),
                [
                    {
                        "email": address,
                        "email_key": address,
                        "created_at": since,
                        "email_verified_at": since,
                        "display_name": names[start + n] if names is not None else "",
                    }
                    for n, address in enumerate(emails[start : start + CHUNK])
                ],
            )
        by_email = dict(
            db.session.execute(
                select(Member.email, Member.id).where(Member.email.like(f"%-{tag}@example.com"))
            ).all()
        )
        ids = [by_email[address] for address in emails]
        _insert(
            Entitlement,
            [
                {
                    "member_id": m,
                    "reward": f"scope:{scope}",
                    "earned_by": "account",
                    "earned_at": since,
                }
                for m in ids
            ],
        )
        _insert(
            ConsentSubject, [{"member_id": m, "salt": "s" * 32, "created_at": since} for m in ids]
        )
        subjects = dict(
            db.session.execute(
                select(ConsentSubject.member_id, ConsentSubject.id).where(
                    ConsentSubject.member_id.in_(ids)
                )
            ).all()
        )
        for channel in channels:
            receipts = {m: f"{tag}-{channel[:1]}-{m}" for m in ids}
            _insert(
                ConsentEvent,
                [
                    {
                        "receipt": receipts[m],
                        "subject_id": subjects[m],
                        "scope": scope,
                        "channel": channel,
                        "action": "grant",
                        "at": since,
                        "source": "preferences",
                        "wording": words,
                        "wording_version": 1,
                        "wording_hash": words_hash,
                    }
                    for m in ids
                ],
            )
            events = dict(
                db.session.execute(
                    select(ConsentEvent.receipt, ConsentEvent.id).where(
                        ConsentEvent.receipt.like(f"{tag}-{channel[:1]}-%")
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
                        "wording_hash": words_hash,
                        "granted_at": since,
                        "changed_at": since,
                        "event_id": events[receipts[m]],
                    }
                    for m in ids
                ],
            )
        db.session.commit()
    return Crowd(ids, dict(zip(ids, emails, strict=True)))


def _insert(model: type, rows: list[dict[str, object]]) -> None:
    from app.extensions import db

    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])
