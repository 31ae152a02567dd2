"""The audience preview: who a campaign would reach on each channel now, and how many members
are left out for each of the gate's reasons.

One query reads every active member who holds the scope or ever answered it on the channel,
with each of the gate's checks (:func:`app.consent.gate.audience.failing`, the conditions the
set-based :func:`app.consent.gate.audience.audience` is built from) folded into one number per
member; members for whom no check fails are the ones reached, and sending fills the outbox
with them. Every other active member fails ``earned`` and ``consented`` without a look at
their facts. A member left out for two reasons counts under both. Quiet hours and the scope's
days and window defer, they do not leave out: how many of the reached are deferred now is
decided once per time zone and quiet hours, with the gate's own functions.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import Member
from app.consent.gate.audience import failing, without_jit
from app.consent.gate.rules import REASONS, Campaign, MemberFacts, in_schedule, quiet_until, zone
from app.consent.models import ConsentPreferences, ConsentState, ScopePause
from app.consent.scopes import Scope
from app.consent.terms import Channel, GateReason
from app.extensions import db
from app.notify import targeting, targeting_eval
from app.notify.targeting_eval import Explanation
from app.rewards.models import Entitlement

SAMPLE = 20

#: What a count of members left out for each reason means, in the words the preview shows
#: ("no yes on this channel: 1"); the gate's passing words are in
#: :data:`app.consent.gate.explain.LABELS`.
LEFT_OUT: dict[str, str] = {
    GateReason.ACCOUNT: "account closed",
    GateReason.EARNED: "has not earned the scope",
    GateReason.CONSENTED: "no yes on this channel",
    GateReason.STALE_CONSENT: "said yes to older wording",
    GateReason.EXPIRED: "yes too old, not renewed",
    GateReason.ADDRESS: "no proven address on this channel",
    GateReason.SUPPRESSED: "address bounced or complained",
    GateReason.COOLDOWN: "said yes too recently (cooling down)",
    GateReason.CAP: "already had as many as the promise allows",
    GateReason.PAUSED: "paused: ignored messages or said “not for me”",
    GateReason.RESTING: "resting after silence",
    GateReason.QUIET: "in their quiet hours",
    GateReason.SCHEDULE: "outside the promised days and hours",
    GateReason.TIMING: "waiting for their usual hour",
    "not-targeted": "left out by the campaign's filter",
}


def left_out_label(reason: str) -> str:
    """The preview's words for members left out for ``reason`` (the code itself when new)."""
    return LEFT_OUT.get(reason, reason)


@dataclass(frozen=True)
class ChannelPreview:
    channel: str
    reached: int
    deferred: int
    excluded: dict[GateReason, int]
    sample: list[tuple[int, str, str]] = field(default_factory=list)
    members: frozenset[int] = frozenset()  # who is reached: sending fills the outbox with them
    paused: frozenset[int] = frozenset()  # held back by ``paused`` alone (they may be asked)


def _active_members() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(Member).where(Member.deleted_at.is_(None))
        )
        or 0
    )


def _sample(ids: frozenset[int]) -> list[tuple[int, str, str]]:
    chosen = heapq.nsmallest(SAMPLE, ids)
    if not chosen:
        return []
    rows = db.session.execute(
        select(Member.id, Member.email, Member.display_name)
        .where(Member.id.in_(chosen))
        .order_by(Member.id)
    )
    return [(row.id, row.email, row.display_name or "") for row in rows]


def _failed_mask(checks: dict[str, ColumnElement[bool]]) -> ColumnElement[int]:
    """One number per member: bit ``i`` is set when the check of ``REASONS[i]`` fails."""
    bits: ColumnElement[int] = literal(0)
    for reason, condition in checks.items():
        bits = bits + case((condition, 1 << REASONS.index(reason)), else_=0)
    return bits


def preview_channel(
    scope: Scope, channel: Channel, now: datetime, ref: str | None = None
) -> ChannelPreview:
    campaign = Campaign.of(scope, ref)
    state, pause, prefs = aliased(ConsentState), aliased(ScopePause), aliased(ConsentPreferences)
    entitlement = aliased(Entitlement)
    checks = failing(campaign, channel, now, state, entitlement, pause, prefs)
    query = (
        select(
            Member.id,
            _failed_mask(checks).label("failed"),
            Member.time_zone,
            prefs.quiet_start,
            prefs.quiet_end,
        )
        .select_from(Member)
        .outerjoin(
            state,
            and_(state.member_id == Member.id, state.scope == scope.slug, state.channel == channel),
        )
        .outerjoin(
            entitlement,
            and_(entitlement.member_id == Member.id, entitlement.reward == scope.reward),
        )
        .outerjoin(pause, and_(pause.member_id == Member.id, pause.scope == scope.slug))
        .outerjoin(prefs, prefs.member_id == Member.id)
        .where(
            Member.deleted_at.is_(None),
            or_(entitlement.member_id.is_not(None), state.member_id.is_not(None)),
        )
    )
    reached: list[int] = []
    paused: list[int] = []
    paused_only = 1 << REASONS.index(GateReason.PAUSED)
    moments: Counter[tuple[str, int | None, int | None]] = Counter()
    failures: Counter[int] = Counter()
    candidates = 0
    without_jit()
    rows = db.session.connection().execute(query)  # plain rows: no ORM loading per member
    for member_id, failed, time_zone, quiet_start, quiet_end in rows:
        candidates += 1
        if failed:
            failures[failed] += 1
            if failed == paused_only:
                paused.append(member_id)
        else:
            reached.append(member_id)
            moments[(time_zone, quiet_start, quiet_end)] += 1
    counts: Counter[str] = Counter()
    for failed, how_many in failures.items():
        counts.update(
            {reason: how_many for bit, reason in enumerate(REASONS) if failed & (1 << bit)}
        )
    outside = _active_members() - candidates
    if outside > 0:
        counts.update({"earned": outside, "consented": outside})
    ordered = {reason: counts[reason] for reason in REASONS if counts[reason]}
    members = frozenset(reached)
    return ChannelPreview(
        channel,
        len(members),
        _deferred(scope, channel, moments, now),
        ordered,
        _sample(members),
        members,
        frozenset(paused),
    )


def _deferred(
    scope: Scope,
    channel: Channel,
    moments: Counter[tuple[str, int | None, int | None]],
    now: datetime,
) -> int:
    """How many reached members the gate would hold back now for quiet hours or the scope's
    days and window. For a member who passes every other check that depends only on their
    time zone and quiet hours, so it is decided once per pair, as :func:`decide` does."""
    deferred = 0
    for (time_zone, quiet_start, quiet_end), how_many in moments.items():
        facts = MemberFacts(
            member_id=0, time_zone=time_zone, quiet_start=quiet_start, quiet_end=quiet_end
        )
        if quiet_until(facts, now, channel) is not None or not in_schedule(
            scope, now.astimezone(zone(time_zone))
        ):
            deferred += how_many
    return deferred


def preview_audience(
    scope: Scope, channels: Sequence[Channel], now: datetime, ref: str | None = None
) -> dict[str, ChannelPreview]:
    return {channel: preview_channel(scope, channel, now, ref) for channel in channels}


@dataclass(frozen=True)
class TargetingPreview:
    """What a campaign's filter does to the gate's audience: per clause, how many it keeps
    and why others are out (``explanation``), how many it keeps per channel, or the problem
    that stops the campaign from being sent (a survey or question removed since)."""

    text: str
    explanation: Explanation | None
    kept: dict[str, int]
    problem: str | None = None


def preview_targeting(
    text: str | None, previews: dict[str, ChannelPreview], now: datetime
) -> TargetingPreview | None:
    """The filter ``text`` over the audience ``previews`` found; None without a filter."""
    if not text:
        return None
    try:
        node = targeting.parse(text)
        targeting.check(node)
    except targeting.TargetingError as exc:
        return TargetingPreview(text, None, {}, str(exc))
    everyone = set().union(*(p.members for p in previews.values())) if previews else set()
    explanation = targeting_eval.explain(node, everyone, now)
    kept = {channel: len(p.members & explanation.kept) for channel, p in previews.items()}
    return TargetingPreview(text, explanation, kept)
