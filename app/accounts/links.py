"""Single-use links sent by mail: verify an address, reset a password, sign in, change address.

Each link is a signed token (:mod:`app.signing`) scoped to (member, purpose, object), where the
object is the address the link was sent to. A link works once: its id is recorded in
``token_uses`` in the same transaction as what it does.

Two links sign someone in: the ``signin`` link, and the ``verify`` link of a new account
(issue 19: confirming the address lands the member on their welcome page). The second is held to
the first's rules: its sign-in is a use of its own (``<id>.signin``, purpose ``verify-signin``),
recorded once; it must happen within :data:`VERIFY_SIGN_IN_WINDOW` of the mail (the link keeps
confirming the address for its whole lifetime, but then asks to sign in); the view asks for a
button press (mail scanners open links), renews the session and is rate limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from app import clock, signing
from app.accounts.members import email_key, get_member
from app.accounts.models import Member, TokenUse
from app.extensions import db

LIFETIMES = {
    "verify": timedelta(days=3),
    "reset": timedelta(hours=1),
    "signin": timedelta(minutes=20),
    "email": timedelta(days=1),
}


# How long after it was sent a confirmation link may also sign the member in: as long as a
# sign-in link lives.
VERIFY_SIGN_IN_WINDOW = timedelta(minutes=20)
VERIFY_SIGN_IN = "verify-signin"


@dataclass(frozen=True)
class LinkTarget:
    member: Member
    address: str  # the address the link was sent to
    jti: str


def make_link(purpose: str, member: Member, address: str | None = None) -> str:
    """A token for ``purpose`` that acts on ``member`` and is valid for its lifetime."""
    target = address if address is not None else member.email
    payload: dict[str, object] = {"m": member.id, "o": target}
    if purpose == "verify":
        payload["s"] = int((clock.now() + VERIFY_SIGN_IN_WINDOW).timestamp())
    return signing.sign(f"accounts.{purpose}", payload, LIFETIMES[purpose])


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


def _sign_in_jti(jti: str) -> str:
    return f"{jti}.signin"


def verify_link_signs_in(token: str, now: datetime) -> Member | None:
    """The member the confirmation link ``token`` may still sign in, or None: it must be
    genuine, sent less than :data:`VERIFY_SIGN_IN_WINDOW` ago, for the member's current address,
    and not used to sign in before. Uses nothing up."""
    try:
        payload = signing.unsign("accounts.verify", token)
    except signing.TokenError:
        return None
    until = payload.get("s")
    if not isinstance(until, int) or now.timestamp() > until:
        return None
    if db.session.get(TokenUse, _sign_in_jti(str(payload.get("j", "")))) is not None:
        return None
    member = get_member(int(payload.get("m", 0)))
    if member is None or not member.is_active:
        return None
    return member if email_key(str(payload.get("o", ""))) == member.email_key else None


def sign_in_with_verify_link(token: str, now: datetime) -> LinkTarget:
    """Spend the sign-in half of the confirmation link ``token`` and return its member (whose
    address the caller marks confirmed, if the link's first use did not). The link's use for
    confirming is separate: a link that already confirmed still signs in once, in its window.

    Raises :class:`~app.signing.TokenForged`, :class:`~app.signing.TokenExpired` (the window
    for signing in has passed, or the whole link has) or :class:`~app.signing.TokenUsed` (it
    signed someone in before, or the member's address changed since).
    """
    payload = signing.unsign("accounts.verify", token)
    until = payload.get("s")
    if not isinstance(until, int) or now.timestamp() > until:
        raise signing.TokenExpired(payload)
    jti = _sign_in_jti(str(payload.get("j", "")))
    member = get_member(int(payload.get("m", 0)))
    address = str(payload.get("o", ""))
    if member is None or not member.is_active:
        raise signing.TokenForged("no such member")
    if email_key(address) != member.email_key:
        raise signing.TokenUsed("address changed since the link was sent")
    try:
        with db.session.begin_nested():
            db.session.add(
                TokenUse(jti=jti, purpose=VERIFY_SIGN_IN, member_id=member.id, used_at=now)
            )
    except IntegrityError:
        raise signing.TokenUsed("link already used to sign in") from None
    return LinkTarget(member=member, address=address, jti=jti)
