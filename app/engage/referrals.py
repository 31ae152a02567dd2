"""Referrals: each member's link, the friends who joined through it, and the ``referral`` action.

A visit through ``/r/<code>`` marks the visitor's session; when that visitor signs up, the new
member is attached to the referrer (pending). When the new member verifies their address, both
get the ``referral`` action, as long as the referrer has fewer than ``REFERRAL_CAP`` credited
referrals; past the cap the referral is recorded as ``capped`` and earns nothing.

Self-referral and loops do nothing: a referral only attaches a member created after the
referrer, through someone else's link, at most once, and never one who referred the referrer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.members import get_member
from app.engage.actions import record_action
from app.engage.models import Referral, ReferralLink
from app.extensions import db

ARRIVAL_PREFIX = "referral:"
CODE_LENGTH = 10
CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def link_code(member_id: int) -> str | None:
    return db.session.scalar(select(ReferralLink.code).where(ReferralLink.member_id == member_id))


def ensure_link(member_id: int, now: datetime) -> str:
    """The member's referral code, created on first use (50 random bits)."""
    existing = link_code(member_id)
    if existing is not None:
        return existing
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    try:
        with db.session.begin_nested():
            db.session.add(ReferralLink(member_id=member_id, code=code, created_at=now))
    except IntegrityError:
        pass  # created at the same time by another request (or, once in 2^50, a clash)
    return link_code(member_id) or ensure_link(member_id, now)


def referrer_of(code: str) -> int | None:
    """The active member whose link has ``code``, or None."""
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    member_id = db.session.scalar(select(ReferralLink.member_id).where(ReferralLink.code == code))
    if member_id is None:
        return None
    member = get_member(member_id)
    return member_id if member is not None and member.is_active else None


def arrival_mark(code: str) -> str:
    """What a visit through ``code``'s link carries until the visitor signs up."""
    return ARRIVAL_PREFIX + code


def attach(member_id: int, arrived_via: str | None, now: datetime) -> bool:
    """Attach a just-created member to the referrer their visit came through; True when it did.

    Does nothing for a visit that carried no referral, an unknown code, the member's own link, or
    a referrer that the member referred.
    """
    if not arrived_via or not arrived_via.startswith(ARRIVAL_PREFIX):
        return False
    referrer_id = referrer_of(arrived_via.removeprefix(ARRIVAL_PREFIX))
    if referrer_id is None or referrer_id == member_id:
        return False
    loop = db.session.scalar(
        select(Referral.id).where(
            Referral.referrer_id == member_id, Referral.referred_id == referrer_id
        )
    )
    if loop is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Referral(
                    referrer_id=referrer_id, referred_id=member_id, state="pending", created_at=now
                )
            )
    except IntegrityError:
        return False  # already referred
    return True


def credited_count(referrer_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.referrer_id == referrer_id, Referral.state == "credited")
        )
        or 0
    )


def settle(member_id: int, now: datetime) -> str | None:
    """Credit the pending referral of a member who just verified their address.

    Returns the new state (``credited`` or ``capped``), or None when there was nothing to
    settle. The referrer's link row is locked first, so concurrent verifications of several
    friends never credit more than the cap.
    """
    referral = db.session.scalar(
        select(Referral).where(Referral.referred_id == member_id, Referral.state == "pending")
    )
    if referral is None:
        return None
    db.session.execute(
        select(ReferralLink.member_id)
        .where(ReferralLink.member_id == referral.referrer_id)
        .with_for_update()
    )
    cap = int(current_app.config["REFERRAL_CAP"])
    if credited_count(referral.referrer_id) >= cap:
        referral.state = "capped"
    else:
        referral.state = "credited"
        record_action(referral.referrer_id, "referral", now)
        record_action(member_id, "referral", now)
    referral.settled_at = now
    db.session.flush()
    return referral.state


@dataclass(frozen=True)
class ReferralSummary:
    """What the rewards page says about a member's link."""

    code: str | None
    credited: int
    pending: int
    capped: int
    cap: int

    @property
    def room(self) -> int:
        return max(self.cap - self.credited, 0)


def summary(member_id: int) -> ReferralSummary:
    """The member's link code (None until :func:`ensure_link`) and how their referrals stand."""
    code = link_code(member_id)
    rows = db.session.execute(
        select(Referral.state, func.count())
        .where(Referral.referrer_id == member_id)
        .group_by(Referral.state)
    ).all()
    counts = {state: int(count) for state, count in rows}
    return ReferralSummary(
        code,
        counts.get("credited", 0),
        counts.get("pending", 0),
        counts.get("capped", 0),
        int(current_app.config["REFERRAL_CAP"]),
    )


def referrals_of(member_id: int) -> dict[str, Any]:
    """A member's referral data for their export (friends appear without their identity)."""
    own = db.session.scalar(select(Referral).where(Referral.referred_id == member_id))
    friends = db.session.scalars(
        select(Referral).where(Referral.referrer_id == member_id).order_by(Referral.created_at)
    )
    return {
        "link_code": link_code(member_id),
        "joined_through_a_referral": None
        if own is None
        else {"state": own.state, "at": own.created_at.isoformat()},
        "friends": [
            {
                "state": r.state,
                "joined_at": r.created_at.isoformat(),
                "settled_at": r.settled_at.isoformat() if r.settled_at else None,
            }
            for r in friends
        ],
    }
