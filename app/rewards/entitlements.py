"""Entitlements: grant what an action unlocks, once per (member, reward), and back-fill.

Grants are inserts that the database de-duplicates (``ON CONFLICT DO NOTHING`` on the unique
(member, reward) pair), so concurrent grants of one reward give exactly one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from app import events
from app.engage.models import Action
from app.extensions import db
from app.rewards.models import Entitlement
from app.rewards.rules import RULES, RuleBook, pattern_to_like


@dataclass(frozen=True)
class RewardGranted(events.Event):
    """A member earned a reward for the first time."""

    name = "reward-granted"
    member_id: int
    reward: str
    earned_by: str
    at: datetime


def rule_book() -> RuleBook:
    return RULES.get().get()


def _insert_ignoring_duplicates(values: dict[str, object]) -> bool:
    """Insert one entitlement; return whether a row was added."""
    dialect = db.dialect
    statement = (
        postgresql.insert(Entitlement) if dialect == "postgresql" else sqlite.insert(Entitlement)
    )
    added = db.session.scalar(
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=["member_id", "reward"])
        .returning(Entitlement.id)
    )
    return added is not None


def grant(member_id: int, reward: str, earned_by: str, now: datetime) -> bool:
    """Grant ``reward`` to the member; True when it is new. Emits :class:`RewardGranted`."""
    added = _insert_ignoring_duplicates(
        {"member_id": member_id, "reward": reward, "earned_by": earned_by, "earned_at": now}
    )
    if added:
        events.emit(RewardGranted(member_id=member_id, reward=reward, earned_by=earned_by, at=now))
    return added


def grant_many(member_ids: Sequence[int], reward: str, earned_by: str, now: datetime) -> int:
    """Grant ``reward`` to each member in one statement (the importer's bulk path of
    :func:`grant`); returns how many grants were new. Emits :class:`RewardGranted` for each."""
    if not member_ids:
        return 0
    statement = (
        postgresql.insert(Entitlement) if db.dialect == "postgresql" else sqlite.insert(Entitlement)
    )
    added = db.session.scalars(
        statement.on_conflict_do_nothing(index_elements=["member_id", "reward"]).returning(
            Entitlement.member_id
        ),
        [
            {"member_id": m, "reward": reward, "earned_by": earned_by, "earned_at": now}
            for m in member_ids
        ],
    ).all()
    for member_id in added:
        events.emit(RewardGranted(member_id=member_id, reward=reward, earned_by=earned_by, at=now))
    return len(added)


def grant_for_action(member_id: int, action: str, now: datetime) -> list[str]:
    """Grant every reward whose rule matches ``action``; return the rewards that were new."""
    return [
        rule.reward
        for rule in rule_book().rewards_for(action)
        if grant(member_id, rule.reward, action, now)
    ]


def holds(member_id: int, reward: str) -> bool:
    return (
        db.session.scalar(
            select(Entitlement.id).where(
                Entitlement.member_id == member_id, Entitlement.reward == reward
            )
        )
        is not None
    )


def entitlements_of(member_id: int) -> Sequence[Entitlement]:
    return db.session.scalars(
        select(Entitlement)
        .where(Entitlement.member_id == member_id)
        .order_by(Entitlement.earned_at, Entitlement.id)
    ).all()


def sync(now: datetime) -> int:
    """Grant every reward whose rule matches actions taken before the rule existed.

    One set-based insert per rule pattern; returns how many entitlements were added.
    """
    added = 0
    for rule in rule_book().rules:
        for pattern in rule.patterns:
            match = (
                Action.action.like(pattern_to_like(pattern), escape="\\")
                if "*" in pattern
                else Action.action == pattern
            )
            already = exists().where(
                and_(Entitlement.member_id == Action.member_id, Entitlement.reward == rule.reward)
            )
            candidates = (
                select(
                    Action.member_id,
                    literal(rule.reward),
                    func.min(Action.action),
                    literal(now, type_=Entitlement.earned_at.type),
                )
                .where(match, ~already)
                .group_by(Action.member_id)
            )
            inserted = db.session.scalars(
                insert(Entitlement)
                .from_select(["member_id", "reward", "earned_by", "earned_at"], candidates)
                .returning(Entitlement.id)
            ).all()
            added += len(inserted)
    return added


def entitlements_export(member_id: int) -> list[dict[str, str]]:
    """A member's entitlements for their data export."""
    return [
        {"reward": e.reward, "earned_by": e.earned_by, "earned_at": e.earned_at.isoformat()}
        for e in entitlements_of(member_id)
    ]
