"""The audience preview: who a campaign would reach on each channel now, and how many members
are left out for each of the gate's reasons.

Members reached come from the set-based :func:`app.consent.audience.audience` (the query the
outbox is filled with). Reasons come from :func:`app.consent.gate.decide`, run only for the
members who hold the scope or ever answered it and are not reached; every other member fails
``earned`` and ``consented`` without a look at their facts. A member left out for two reasons
counts under both.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from app.accounts.models import Member
from app.consent.audience import audience
from app.consent.facts import load_facts
from app.consent.gate import DEFERRING, REASONS, Campaign, decide, in_schedule, zone
from app.consent.models import ConsentPreferences, ConsentState
from app.consent.scopes import Scope
from app.extensions import db
from app.rewards.models import Entitlement

SAMPLE = 20


@dataclass(frozen=True)
class ChannelPreview:
    channel: str
    reached: int
    deferred: int
    excluded: dict[str, int]
    sample: list[tuple[int, str, str]] = field(default_factory=list)
    members: frozenset[int] = frozenset()  # who is reached: sending fills the outbox with them

    @property
    def excluded_total(self) -> int:
        return max(self.excluded.values(), default=0)


def _active_members() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Member).where(Member.deleted_at.is_(None))) or 0


def _candidates(scope: Scope, channel: str) -> set[int]:
    holders = select(Entitlement.member_id).where(Entitlement.reward == scope.reward)
    answered = select(ConsentState.member_id).where(ConsentState.scope == scope.slug,
                                                    ConsentState.channel == channel)
    return set(db.session.scalars(
        select(Member.id).where(Member.deleted_at.is_(None),
                                or_(Member.id.in_(holders), Member.id.in_(answered)))))


def _sample(ids: set[int]) -> list[tuple[int, str, str]]:
    chosen = sorted(ids)[:SAMPLE]
    if not chosen:
        return []
    rows = db.session.execute(select(Member.id, Member.email, Member.display_name)
                              .where(Member.id.in_(chosen)).order_by(Member.id))
    return [(row.id, row.email, row.display_name or "") for row in rows]


def preview_channel(scope: Scope, channel: str, now: datetime,
                    ref: str | None = None) -> ChannelPreview:
    campaign = Campaign.of(scope, ref)
    reached = audience(scope, channel, now, campaign)
    active = _active_members()
    candidates = _candidates(scope, channel)
    counts: Counter[str] = Counter()
    outside = active - len(candidates | reached)
    if outside > 0:
        counts.update({"earned": outside, "consented": outside})
    left_out = candidates - reached
    facts = load_facts(left_out) if left_out else None
    for member in left_out:
        assert facts is not None
        counts.update(reason for reason in decide(facts, campaign, member, channel, now).reasons
                      if reason not in DEFERRING)
    deferred = _deferred(campaign, channel, reached, now)
    ordered = {reason: counts[reason] for reason in REASONS if counts[reason]}
    return ChannelPreview(channel, len(reached), deferred, ordered, _sample(reached),
                          frozenset(reached))


def _deferred(campaign: Campaign, channel: str, reached: set[int], now: datetime) -> int:
    """How many of ``reached`` the gate would hold back now for quiet hours or the scope's
    days and window. Without quiet hours that depends on the member's time zone alone, so
    members are judged per zone; members with quiet hours are decided one by one."""
    if not reached:
        return 0
    scope = campaign.scope
    quiet = set(db.session.scalars(
        select(ConsentPreferences.member_id).where(ConsentPreferences.quiet_start.is_not(None))))
    with_quiet_hours = reached & quiet
    deferred = 0
    if with_quiet_hours:
        facts = load_facts(with_quiet_hours)
        deferred += sum(1 for member in with_quiet_hours
                        if decide(facts, campaign, member, channel, now).reasons)
    if scope.days or scope.send_window is not None:
        zones: Counter[str] = Counter()
        others = sorted(reached - with_quiet_hours)
        for start in range(0, len(others), 500):
            zones.update(db.session.scalars(
                select(Member.time_zone).where(Member.id.in_(others[start:start + 500]))))
        deferred += sum(count for name, count in zones.items()
                        if not in_schedule(scope, now.astimezone(zone(name))))
    return deferred


def preview_audience(scope: Scope, channels: list[str], now: datetime,
                     ref: str | None = None) -> dict[str, ChannelPreview]:
    return {channel: preview_channel(scope, channel, now, ref) for channel in channels}
