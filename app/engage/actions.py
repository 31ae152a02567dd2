"""Actions: record what a member did, once per (member, action), and tell whoever listens.

An action is named ``kind:ref`` (``survey:reader-2026``, ``code:spring-store``,
``subscribe:newsletter``, ``read:why-pull-wins``, ``purchase:sku-123`` recorded by a till through
the API) or a bare kind (``account``, ``referral``).
Recording emits :class:`ActionRecorded` in the caller's transaction, so the rewards it unlocks
commit or roll back together with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import events
from app.engage.errors import InvalidAction
from app.engage.models import Action
from app.extensions import db

KINDS_WITH_REF = frozenset({"subscribe", "survey", "code", "read", "purchase"})
BARE_KINDS = frozenset({"account", "referral"})
KINDS = KINDS_WITH_REF | BARE_KINDS
REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ActionRecorded(events.Event):
    """A member took an action for the first time."""

    name = "action-recorded"
    member_id: int
    action: str
    at: datetime


def parse_action(action: str) -> tuple[str, str | None]:
    """Split ``kind:ref`` into its parts; raise :class:`InvalidAction` for anything else."""
    kind, _, ref = action.partition(":")
    if kind in BARE_KINDS and not ref:
        return kind, None
    if kind in KINDS_WITH_REF and REF.match(ref):
        return kind, ref
    raise InvalidAction(f"not an action name: {action!r}")


def record_action(member_id: int, action: str, now: datetime) -> bool:
    """Record that ``member_id`` took ``action``. Returns True the first time, False after.

    Safe under concurrency: the database's unique constraint decides, and the loser of a race
    sees False. Raises :class:`InvalidAction` for a malformed name.
    """
    kind, _ = parse_action(action)
    if has_action(member_id, action):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Action(member_id=member_id, action=action, kind=kind, at=now))
    except IntegrityError:
        return False
    events.emit(ActionRecorded(member_id=member_id, action=action, at=now))
    return True


def has_action(member_id: int, action: str) -> bool:
    return (
        db.session.scalar(
            select(Action.id).where(Action.member_id == member_id, Action.action == action)
        )
        is not None
    )


def actions_of(member_id: int) -> list[Action]:
    return list(
        db.session.scalars(
            select(Action).where(Action.member_id == member_id).order_by(Action.at, Action.id)
        )
    )


def actions_export(member_id: int) -> list[dict[str, str]]:
    """A member's actions for their data export."""
    return [{"action": a.action, "at": a.at.isoformat()} for a in actions_of(member_id)]
