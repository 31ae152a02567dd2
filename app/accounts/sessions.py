"""Sign-ins: one row per signed-in browser, so a sign-in can be ended from the server.

The session cookie and the remember-me cookie both carry ``<member id>.<key>``. Only a hash of the
key is stored. Ending a sign-in (sign-out, password change, "sign out everywhere") makes both
cookies worthless at once, wherever they were copied to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select, update

from app.accounts.models import Member, SignIn
from app.extensions import db

MAX_USER_AGENT = 200


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_sign_in(member: Member, user_agent: str, now: datetime) -> str:
    """Record a new sign-in for ``member`` and return its key (also set on the member)."""
    key = secrets.token_urlsafe(24)
    db.session.add(
        SignIn(
            member_id=member.id,
            key_hash=_hash(key),
            created_at=now,
            user_agent=user_agent[:MAX_USER_AGENT],
        )
    )
    member.last_sign_in_at = now
    member.sign_in_key = key
    db.session.flush()
    return key


def load_signed_in(user_id: str) -> Member | None:
    """The active member for a ``<member id>.<key>`` string, or None when the sign-in ended."""
    member_part, _, key = user_id.partition(".")
    if not member_part.isdigit() or not key:
        return None
    row = db.session.execute(
        select(Member, SignIn.key_hash)
        .join(SignIn, SignIn.member_id == Member.id)
        .where(
            SignIn.key_hash == _hash(key),
            SignIn.revoked_at.is_(None),
            Member.id == int(member_part),
            Member.deleted_at.is_(None),
        )
    ).first()
    if row is None or not hmac.compare_digest(row[1], _hash(key)):
        return None
    member: Member = row[0]
    member.sign_in_key = key
    return member


def end_sign_in(member: Member, now: datetime) -> None:
    """End the sign-in of the current request (sign-out)."""
    if member.sign_in_key is None:
        return
    db.session.execute(
        update(SignIn)
        .where(SignIn.key_hash == _hash(member.sign_in_key), SignIn.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    member.sign_in_key = None


def end_other_sign_ins(member: Member, now: datetime) -> int:
    """End every sign-in of ``member`` except the current one; return how many ended."""
    query = update(SignIn).where(SignIn.member_id == member.id, SignIn.revoked_at.is_(None))
    if member.sign_in_key is not None:
        query = query.where(SignIn.key_hash != _hash(member.sign_in_key))
    result = db.session.execute(query.values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def active_sign_ins(member: Member) -> list[SignIn]:
    return list(
        db.session.scalars(
            select(SignIn)
            .where(SignIn.member_id == member.id, SignIn.revoked_at.is_(None))
            .order_by(SignIn.created_at.desc())
        )
    )


def is_current(member: Member, sign_in: SignIn) -> bool:
    return member.sign_in_key is not None and sign_in.key_hash == _hash(member.sign_in_key)
