"""The audience of a campaign: every member the gate lets it reach on a channel, in one
set-based query.

It applies the checks of :func:`app.consent.gate.rules.decide` (see that module for their meaning)
in SQL, except ``quiet`` and ``schedule``: they defer a delivery, they do not drop it, so
members in their quiet hours or outside the scope's days and window belong to the audience and
the worker's call to ``decide`` just before sending holds their delivery until
``deferred_until``. A property test keeps this query equal to
filtering every member with ``decide(...).eligible``, on SQLite and PostgreSQL.

:func:`failing` states each check once, as a condition that holds when the check fails; the
audience is the members for whom none holds, and the campaign preview counts the members for
whom each one holds (:mod:`app.notify.preview`). Every condition is true or false, never
NULL, so "none holds" is exact even over outer joins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import aliased

from app.accounts.models import Member
from app.consent.gate.facts import daily_cap, learning
from app.consent.gate.rules import DAY, MONTH, WEEK, Campaign, slot
from app.consent.models import (
    ConsentPreferences,
    ConsentState,
    Contact,
    PhoneNumber,
    PushSubscription,
    ScopePause,
    Suppression,
    TelegramChat,
    WebhookEndpoint,
)
from app.consent.scopes import Scope
from app.consent.terms import GATED_KINDS, Channel, GateReason
from app.database.types import UTCDateTime
from app.extensions import db
from app.rewards.models import Entitlement

NEVER = literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime())
NO_REST = literal(datetime(9999, 12, 31, tzinfo=UTC), UTCDateTime())


def audience(
    scope: Scope, channel: Channel, now: datetime, campaign: Campaign | None = None
) -> set[int]:
    """The ids of members ``campaign`` (by default a new gated campaign of ``scope``) may
    reach on ``channel`` at ``now``, quiet hours aside."""
    campaign = campaign or Campaign.of(scope)
    if channel not in scope.channels:
        return set()
    state, pause, prefs = ConsentState, aliased(ScopePause), aliased(ConsentPreferences)
    checks = failing(campaign, channel, now, state, Entitlement, pause, prefs)
    # The joins and the states' index hold these already; repeated, they only mislead the
    # planner's estimates.
    del checks[GateReason.EARNED], checks[GateReason.STALE_CONSENT]
    query = (
        select(Member.id)
        .select_from(state)
        .join(Member, Member.id == state.member_id)
        .join(
            Entitlement,
            and_(Entitlement.member_id == state.member_id, Entitlement.reward == scope.reward),
        )
        .outerjoin(pause, and_(pause.member_id == state.member_id, pause.scope == scope.slug))
        .outerjoin(prefs, prefs.member_id == state.member_id)
        .where(
            # The granted, current states: what the index on consent_states finds.
            state.scope == scope.slug,
            state.channel == channel,
            state.granted == true(),
            state.wording_version == scope.consent_version,
            state.wording_hash == scope.wording_hash_for(channel),
            *(not_(condition) for condition in checks.values()),
        )
    )
    without_jit()
    return set(db.session.connection().scalars(query))


def without_jit() -> None:
    """On PostgreSQL, no JIT compilation for the rest of the transaction. The audience
    queries make a few index lookups per member, which compiled code does not speed up, and
    their cost estimate over many members triggers the compiler: on 100,000 members it took
    300 ms of a 1.2 s query."""
    if db.dialect == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def failing(
    campaign: Campaign,
    channel: Channel,
    now: datetime,
    state: Any,
    entitlement: Any,
    pause: Any,
    prefs: Any,
) -> dict[str, ColumnElement[bool]]:
    """Per reason of the gate (``quiet`` and ``schedule`` aside), the condition under which
    that check fails for the row of :class:`Member` at hand, whose consent state for the
    scope and channel, entitlement to the scope, pause of the scope and preferences are
    ``state``, ``entitlement``, ``pause`` and ``prefs`` (outer-joined: any may be missing).

    The cheap checks come first and the ones that read the contact history last, so a
    database that stops at the first failing condition reads the history only for members
    who pass everything else."""
    scope = campaign.scope
    granted = and_(state.granted.is_(True), state.granted_at.is_not(None))
    if channel not in scope.channels:
        granted = false()
    history = _History(campaign, now, Member.id, pause.resumed_at)
    checks: dict[str, ColumnElement[bool]] = {
        GateReason.ACCOUNT: Member.deleted_at.is_not(None),
        GateReason.EARNED: entitlement.member_id.is_(None),
        GateReason.CONSENTED: not_(granted),
        GateReason.STALE_CONSENT: and_(
            granted,
            or_(
                state.wording_version != scope.consent_version,
                and_(
                    state.wording_hash.is_not(None),
                    state.wording_hash != scope.wording_hash_for(channel),
                ),
            ),
        ),
        GateReason.COOLDOWN: and_(
            granted, state.granted_at > now - timedelta(hours=scope.cooldown_hours)
        ),
    }
    checks.update(_address_checks(channel))
    paused = or_(
        and_(prefs.paused_until.is_not(None), prefs.paused_until > now),
        pause.not_for_me_at.is_not(None),
    )
    if scope.expires_after_days is not None:
        bound = now - timedelta(days=scope.expires_after_days)
        checks[GateReason.EXPIRED] = and_(
            granted, state.granted_at <= bound, not_(history.engaged_after(bound))
        )
    checks[GateReason.CAP] = history.capped()
    checks[GateReason.PAUSED] = or_(paused, history.ignored())
    if learning():
        checks[GateReason.RESTING] = history.resting()
    return checks


def _address_checks(channel: Channel) -> dict[str, ColumnElement[bool]]:
    """``address`` and ``suppressed``, per channel."""
    if channel == Channel.EMAIL:
        return {
            GateReason.ADDRESS: Member.email_verified_at.is_(None),
            GateReason.SUPPRESSED: exists().where(Suppression.address_key == Member.email_key),
        }
    if channel == Channel.WEBHOOK:
        verified = exists().where(
            WebhookEndpoint.member_id == Member.id, WebhookEndpoint.verified_at.is_not(None)
        )
        usable = exists().where(
            WebhookEndpoint.member_id == Member.id,
            WebhookEndpoint.verified_at.is_not(None),
            WebhookEndpoint.disabled_at.is_(None),
        )
        return {
            GateReason.ADDRESS: not_(verified),
            GateReason.SUPPRESSED: and_(verified, not_(usable)),
        }
    if channel == Channel.TELEGRAM:
        linked = exists().where(TelegramChat.member_id == Member.id)
        blocked = exists().where(
            TelegramChat.member_id == Member.id, TelegramChat.blocked_at.is_not(None)
        )
        return {GateReason.ADDRESS: not_(linked), GateReason.SUPPRESSED: blocked}
    if channel == Channel.SMS:
        proven = exists().where(PhoneNumber.member_id == Member.id)
        failed = exists().where(
            PhoneNumber.member_id == Member.id, Suppression.address_key == PhoneNumber.number
        )
        return {GateReason.ADDRESS: not_(proven), GateReason.SUPPRESSED: failed}
    if channel == Channel.PUSH:
        subscribed = exists().where(PushSubscription.member_id == Member.id)
        enabled = exists().where(
            PushSubscription.member_id == Member.id, PushSubscription.disabled_at.is_(None)
        )
        return {
            GateReason.ADDRESS: not_(subscribed),
            GateReason.SUPPRESSED: and_(subscribed, not_(enabled)),
        }
    return {GateReason.ADDRESS: false() if channel == Channel.INBOX else true()}


class _History:
    """The checks that read the member's contact history (see :func:`gate.decide`): only
    deliveries of campaigns (the gated kinds), sent by ``now``, of other campaigns count."""

    def __init__(self, campaign: Campaign, now: datetime, member_id: Any, resumed_at: Any) -> None:
        self.campaign, self.now = campaign, now
        self.member_id, self.resumed_at = member_id, resumed_at

    def counted(self, contact: Any) -> list[ColumnElement[bool]]:
        conditions = [
            contact.member_id == self.member_id,
            contact.kind.in_(sorted(GATED_KINDS)),
            contact.sent_at <= self.now,
        ]
        if self.campaign.ref is not None:
            conditions.append(contact.campaign != self.campaign.ref)
        return conditions

    def on_scope(self, contact: Any) -> list[ColumnElement[bool]]:
        return [*self.counted(contact), contact.scope == self.campaign.scope.slug]

    def capped(self) -> ColumnElement[bool]:
        """``cap``: the weekly, monthly and daily caps, from one read of the member's recent
        deliveries (a campaign sent on two channels counts once)."""
        scope, now = self.campaign.scope, self.now
        recent = aliased(Contact)

        def at_least(cap: int, *when: ColumnElement[bool]) -> ColumnElement[bool]:
            matching = case((and_(*when), recent.campaign))
            # One delivery is one campaign: the distinct count (a sort) is needed from two on.
            return func.count(matching if cap == 1 else distinct(matching)) >= cap

        on_scope = recent.scope == scope.slug
        full = [
            at_least(scope.max_per_week, on_scope, recent.sent_at > now - WEEK),
            at_least(daily_cap(), recent.sent_at > now - DAY),
        ]
        since = now - WEEK
        if scope.max_per_month is not None:
            full.append(at_least(scope.max_per_month, on_scope))
            since = now - MONTH
        reached = (
            select(case((or_(*full), 1), else_=0))
            .where(
                *self.counted(recent),
                recent.sent_at > since,
                or_(on_scope, recent.sent_at > now - DAY),
            )
            .correlate_except(recent)
            .scalar_subquery()
        )
        return reached == 1

    def engaged_after(self, bound: datetime) -> ColumnElement[bool]:
        """Whether the member engaged with the scope after ``bound`` (``expired``)."""
        engaged = aliased(Contact)
        return (
            exists()
            .where(*self.on_scope(engaged), engaged.last_engaged_at > bound)
            .correlate_except(engaged)
        )

    def since_resume(self, contact: Any) -> ColumnElement[bool]:
        return or_(self.resumed_at.is_(None), contact.sent_at > self.resumed_at)

    def streak(self) -> ScalarSelect[Any]:
        """How many campaigns on the scope went unengaged since the latest engaged one (and
        since the member last resumed the scope)."""
        last, unengaged = aliased(Contact), aliased(Contact)
        last_engaged = (
            select(func.max(last.sent_at))
            .where(*self.on_scope(last), self.since_resume(last), last.engaged_at.is_not(None))
            .correlate_except(last)
            .scalar_subquery()
        )
        return (
            select(func.count(distinct(unengaged.campaign)))
            .where(
                *self.on_scope(unengaged),
                self.since_resume(unengaged),
                unengaged.engaged_at.is_(None),
                unengaged.sent_at > func.coalesce(last_engaged, NEVER),
            )
            .correlate_except(unengaged)
            .scalar_subquery()
        )

    def ignored(self) -> ColumnElement[bool]:
        """The ignored-campaigns part of ``paused``: the :meth:`streak` reached
        ``pause_after_ignored``."""
        return self.streak() >= self.campaign.scope.pause_after_ignored

    def resting(self) -> ColumnElement[bool]:
        """``resting``: with k campaigns ignored in a row, 1 <= k < pause_after_ignored, the
        latest campaign on the scope (since the last resume) went out less than k and a half
        slots before ``now``. The streak is read once: a CASE on it gives the bound."""
        scope = self.campaign.scope
        if scope.pause_after_ignored <= 1:
            return false()
        latest_contact = aliased(Contact)
        latest = (
            select(func.max(latest_contact.sent_at))
            .where(*self.on_scope(latest_contact), self.since_resume(latest_contact))
            .correlate_except(latest_contact)
            .scalar_subquery()
        )
        bounds = {
            k: literal(self.now - slot(scope) * (k + 0.5), UTCDateTime())
            for k in range(1, scope.pause_after_ignored)
        }
        return func.coalesce(latest, NEVER) > case(bounds, value=self.streak(), else_=NO_REST)
