"""Members: create, find, authenticate, verify, and change what they own.

Functions take plain values and the member they act on, flush their changes into the current
session and leave committing to the caller (the view or CLI command that owns the transaction).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app import events
from app.accounts import passwords
from app.accounts.errors import (
    AccountClosed,
    AccountError,
    EmailTaken,
    InvalidCredentials,
    NotVerified,
    UnknownRole,
    UnknownTimeZone,
    WrongPassword,
)
from app.accounts.models import ROLES, Member
from app.extensions import db

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME = 80


class InvalidEmail(AccountError):
    pass


@dataclass(frozen=True)
class MemberVerified(events.Event):
    """A member proved they read mail at their address (sign-up link, magic link, reset,
    subscription confirmation). Emitted once per member."""

    name = "member-verified"
    member_id: int
    at: datetime


@dataclass(frozen=True)
class MemberCreated(events.Event):
    """A member was created. ``arrived_via`` is what the visit that created them carried (for
    example ``referral:<code>`` from a referral link), for the areas that credit it; None when
    the member was not created from a visit (the CLI, the demo admin) or the visit carried
    nothing. Emitted in the creating transaction."""

    name = "member-created"
    member_id: int
    arrived_via: str | None
    at: datetime


def email_key(email: str) -> str:
    """The form of an address that uniqueness is checked on: trimmed and case-folded."""
    return email.strip().casefold()


def clean_email(email: str) -> str:
    """Return the address trimmed and with its domain normalised; raise :class:`InvalidEmail`."""
    text = email.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("Enter an email address.")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return str(result.normalized)


def find_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email_key == email_key(email)))


def get_member(member_id: int) -> Member | None:
    return db.session.get(Member, member_id)


def create_member(
    email: str,
    password: str | None,
    *,
    now: datetime,
    role: str = "member",
    display_name: str = "",
    verified: bool = False,
    arrived_via: str | None = None,
) -> Member:
    """Create a member. ``password=None`` makes a passwordless member (magic-link sign-in).
    Emits :class:`MemberCreated` with ``arrived_via``.

    Raises :class:`InvalidEmail`, :class:`EmailTaken`, :class:`WeakPassword` or
    :class:`UnknownRole`; nothing is written when it raises.
    """
    address = clean_email(email)
    if role not in ROLES:
        raise UnknownRole(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    password_hash = passwords.hash_password(password) if password is not None else None
    member = Member(
        email=address,
        email_key=email_key(address),
        password_hash=password_hash,
        display_name=clean_display_name(display_name),
        role=role,
        created_at=now,
        password_changed_at=now if password is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(member)
    except IntegrityError:
        raise EmailTaken("An account with this email address already exists.") from None
    events.emit(MemberCreated(member_id=member.id, arrived_via=arrived_via, at=now))
    if verified:
        mark_verified(member, now)
    return member


@dataclass(frozen=True)
class NewMember:
    """A member to add in bulk: an address as :func:`clean_email` returns it, and a name."""

    email: str
    display_name: str = ""


def add_members(people: Sequence[NewMember], now: datetime) -> dict[str, int]:
    """Create unverified, passwordless members in one statement (the importer's bulk path of
    :func:`create_member`); an address that already has an account is left out, not an error.
    Returns ``email_key -> id`` of the members created and emits :class:`MemberCreated` for
    each, with no ``arrived_via``."""
    if not people:
        return {}
    rows = [
        {
            "email": person.email,
            "email_key": email_key(person.email),
            "display_name": clean_display_name(person.display_name),
            "role": "member",
            "time_zone": "UTC",
            "created_at": now,
        }
        for person in people
    ]
    insert = postgresql.insert(Member) if db.dialect == "postgresql" else sqlite.insert(Member)
    created = db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["email_key"]).returning(
            Member.id, Member.email_key
        ),
        rows,
    ).all()
    added = {key: member_id for member_id, key in created}
    for member_id in added.values():
        events.emit(MemberCreated(member_id=member_id, arrived_via=None, at=now))
    return added


def authenticate(email: str, password: str) -> Member:
    """Return the member whose address and password match.

    Raises :class:`InvalidCredentials` (never saying which part was wrong), :class:`NotVerified`
    or :class:`AccountClosed`. The cost is the same whether the address is known or not.
    """
    member = find_by_email(email)
    if not passwords.password_matches(member.password_hash if member else None, password):
        raise InvalidCredentials("That email and password do not match an account.")
    assert member is not None
    if not member.is_active:
        raise AccountClosed("This account was closed.")
    if not member.is_verified:
        raise NotVerified("Confirm your email address first: we sent you a link.")
    return member


def mark_verified(member: Member, now: datetime) -> bool:
    """Record that the member's address is verified; emit :class:`MemberVerified` the first
    time. Returns whether this call verified it."""
    if member.email_verified_at is not None:
        return False
    member.email_verified_at = now
    db.session.flush()
    events.emit(MemberVerified(member_id=member.id, at=now))
    return True


def set_password(member: Member, new_password: str, now: datetime) -> None:
    """Replace the password. The caller ends the member's other sign-ins."""
    member.password_hash = passwords.hash_password(new_password)
    member.password_changed_at = now
    db.session.flush()


def change_password(member: Member, current: str, new_password: str, now: datetime) -> None:
    """Replace the password after checking the current one (members without one skip that)."""
    require_password(member, current)
    set_password(member, new_password, now)


def require_password(member: Member, password: str) -> None:
    """Raise :class:`WrongPassword` unless ``password`` is the member's (members without a
    password pass: they proved the address by signing in through it)."""
    if member.password_hash is not None and not passwords.password_matches(
        member.password_hash, password
    ):
        raise WrongPassword("Your password is not right.")


def check_email_available(email: str, member: Member | None = None) -> str:
    """Return the cleaned address if no other member holds it; raise :class:`EmailTaken`."""
    address = clean_email(email)
    other = find_by_email(address)
    if other is not None and other is not member:
        raise EmailTaken("Another account uses this email address.")
    return address


def change_email(member: Member, new_email: str, now: datetime) -> None:
    """Move the member to ``new_email``, proven by a confirmation link sent there."""
    address = check_email_available(new_email, member)
    member.email = address
    member.email_key = email_key(address)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise EmailTaken("Another account uses this email address.") from None
    if member.email_verified_at is None:
        mark_verified(member, now)


def clean_display_name(text: str) -> str:
    """A display name as one line of text: control characters (NUL, line breaks …) dropped or
    turned into spaces, runs of spaces folded. The name goes into mail headers, where a line
    break would make every message to the member fail, and into PostgreSQL, which refuses a
    NUL."""
    spaced = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(spaced.split())[:MAX_DISPLAY_NAME]


def update_profile(member: Member, display_name: str, time_zone: str) -> None:
    if time_zone not in available_timezones():
        raise UnknownTimeZone(f"Unknown time zone {time_zone!r}.")
    member.display_name = clean_display_name(display_name)
    member.time_zone = time_zone
    db.session.flush()


def set_role(member: Member, role: str) -> None:
    if role not in ROLES:
        raise UnknownRole(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    member.role = role
    db.session.flush()


def count_members(role: str | None = None) -> int:
    query = select(func.count()).select_from(Member).where(Member.deleted_at.is_(None))
    if role is not None:
        query = query.where(Member.role == role)
    return int(db.session.scalar(query) or 0)
