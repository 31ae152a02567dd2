"""Single-use links sent by mail: verify an address, reset a password, sign in, change address.

Each link is a signed token (:mod:`app.signing`) scoped to (member, purpose, object), where the
object is the address the link was sent to. A link works once: its id is recorded in
``token_uses`` in the same transaction as what it does. Only the ``signin`` link signs anyone in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from app import signing
from app.accounts.members import email_key, get_member
from app.accounts.models import Member, TokenUse
from app.extensions import db

LIFETIMES = {
    "verify": timedelta(days=3),
    "reset": timedelta(hours=1),
    "signin": timedelta(minutes=20),
    "email": timedelta(days=1),
}


@dataclass(frozen=True)
class LinkTarget:
    member: Member
    address: str  # the address the link was sent to
    jti: str


def make_link(purpose: str, member: Member, address: str | None = None) -> str:
    """A token for ``purpose`` that acts on ``member`` and is valid for its lifetime."""
    target = address if address is not None else member.email
    return signing.sign(f"accounts.{purpose}", {"m": member.id, "o": target}, LIFETIMES[purpose])


def check_link(purpose: str, token: str) -> LinkTarget:
    """Return what the token points at without using it up.

    Raises :class:`~app.signing.TokenForged`, :class:`~app.signing.TokenUsed` or
    :class:`~app.signing.TokenExpired` (a used token is reported as used even when it is also
    past its expiry, because that is the more useful thing to tell).
    """
    expired: signing.TokenExpired | None = None
    try:
        payload = signing.unsign(f"accounts.{purpose}", token)
    except signing.TokenExpired as exc:
        payload, expired = exc.payload, exc
    jti = str(payload.get("j", ""))
    if db.session.get(TokenUse, jti) is not None:
        raise signing.TokenUsed("link already used")
    if expired is not None:
        raise expired
    member = get_member(int(payload.get("m", 0)))
    address = str(payload.get("o", ""))
    if member is None or not member.is_active:
        raise signing.TokenForged("no such member")
    if purpose != "email" and email_key(address) != member.email_key:
        # The member changed address since: the link is spent, not forged.
        raise signing.TokenUsed("address changed since the link was sent")
    return LinkTarget(member=member, address=address, jti=jti)


def use_link(purpose: str, token: str, now: datetime) -> LinkTarget:
    """Check the token and record its use; a concurrent second use raises TokenUsed."""
    target = check_link(purpose, token)
    try:
        with db.session.begin_nested():
            db.session.add(
                TokenUse(jti=target.jti, purpose=purpose, member_id=target.member.id, used_at=now)
            )
    except IntegrityError:
        raise signing.TokenUsed("link already used") from None
    return target
