"""The audience of a campaign: every member the gate lets it reach on a channel, in one
set-based query.

It applies the checks of :func:`app.consent.gate.decide` (see that module for their meaning)
in SQL, except ``quiet`` and ``schedule``: they defer a delivery, they do not drop it, so
members in their quiet hours or outside the scope's days and window belong to the audience and
the worker's call to ``decide`` just before sending holds their delivery until
``deferred_until``. A property test keeps this query equal to
filtering every member with ``decide(...).eligible``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, distinct, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import Member
from app.consent.facts import daily_cap
from app.consent.gate import DAY, GATED_KINDS, MONTH, WEEK, Campaign
from app.consent.models import (
    ConsentPreferences,
    ConsentState,
    Contact,
    ScopePause,
    Suppression,
    WebhookEndpoint,
)
from app.consent.scopes import Scope
from app.database.types import UTCDateTime
from app.extensions import db
from app.rewards.models import Entitlement

NEVER = literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime())


def _address_ok(channel: str) -> list[ColumnElement[bool]]:
    """``address`` and ``suppressed`` together, per channel."""
    if channel == "email":
        return [Member.email_verified_at.is_not(None),
                ~exists().where(Suppression.address_key == Member.email_key)]
    if channel == "webhook":
        return [exists().where(WebhookEndpoint.member_id == Member.id,
                               WebhookEndpoint.verified_at.is_not(None),
                               WebhookEndpoint.disabled_at.is_(None))]
    return []


def audience(scope: Scope, channel: str, now: datetime,
             campaign: Campaign | None = None) -> set[int]:
    """The ids of members ``campaign`` (by default a new gated campaign of ``scope``) may
    reach on ``channel`` at ``now``, quiet hours aside."""
    campaign = campaign or Campaign.of(scope)
    if channel not in scope.channels:
        return set()
    state = ConsentState
    pause = aliased(ScopePause)
    prefs = aliased(ConsentPreferences)
    query = (
        select(Member.id)
        .select_from(state)
        .join(Member, Member.id == state.member_id)
        .join(Entitlement, and_(Entitlement.member_id == state.member_id,
                                Entitlement.reward == scope.reward))
        .outerjoin(pause, and_(pause.member_id == state.member_id, pause.scope == scope.slug))
        .outerjoin(prefs, prefs.member_id == state.member_id)
        .where(
            state.scope == scope.slug, state.channel == channel, state.granted.is_(True),
            state.wording_version == scope.consent_version,
            state.wording_hash == scope.wording_hash,
            Member.deleted_at.is_(None),
            state.granted_at <= now - timedelta(hours=scope.cooldown_hours),
            or_(prefs.paused_until.is_(None), prefs.paused_until <= now),
            pause.not_for_me_at.is_(None),
            *_address_ok(channel),
            *_history_checks(scope, campaign, now, state, pause),
        )
    )
    return set(db.session.scalars(query))


def _counted(contact: type[Contact], campaign: Campaign, now: datetime) -> list[
        ColumnElement[bool]]:
    """The deliveries that count: the member's, gated, sent by ``now``, of other campaigns."""
    conditions = [contact.member_id == ConsentState.member_id,
                  contact.kind.in_(sorted(GATED_KINDS)), contact.sent_at <= now]
    if campaign.ref is not None:
        conditions.append(contact.campaign != campaign.ref)
    return conditions


def _history_checks(scope: Scope, campaign: Campaign, now: datetime,
                    state: type[ConsentState], pause: type[ScopePause],
                    ) -> list[ColumnElement[bool]]:
    """``expired``, ``cap`` and the ignored-campaigns part of ``paused``."""
    checks: list[ColumnElement[bool]] = []
    week, month, day, engaged, last, unengaged = (aliased(Contact) for _ in range(6))

    def on_scope(contact: type[Contact]) -> list[ColumnElement[bool]]:
        return [*_counted(contact, campaign, now), contact.scope == scope.slug]

    def since_resume(contact: type[Contact]) -> ColumnElement[bool]:
        return or_(pause.resumed_at.is_(None), contact.sent_at > pause.resumed_at)

    if scope.expires_after_days is not None:
        bound = now - timedelta(days=scope.expires_after_days)
        checks.append(or_(state.granted_at > bound,
                          exists().where(*on_scope(engaged), engaged.last_engaged_at > bound)))
    checks.append(
        select(func.count(distinct(week.campaign)))
        .where(*on_scope(week), week.sent_at > now - WEEK).scalar_subquery()
        < scope.max_per_week)
    if scope.max_per_month is not None:
        checks.append(
            select(func.count(distinct(month.campaign)))
            .where(*on_scope(month), month.sent_at > now - MONTH).scalar_subquery()
            < scope.max_per_month)
    checks.append(
        select(func.count(distinct(day.campaign)))
        .where(*_counted(day, campaign, now), day.sent_at > now - DAY).scalar_subquery()
        < daily_cap())

    last_engaged = (select(func.max(last.sent_at))
                    .where(*on_scope(last), since_resume(last), last.engaged_at.is_not(None))
                    .correlate(state, pause).scalar_subquery())
    checks.append(
        select(func.count(distinct(unengaged.campaign)))
        .where(*on_scope(unengaged), since_resume(unengaged), unengaged.engaged_at.is_(None),
               unengaged.sent_at > func.coalesce(last_engaged, NEVER))
        .scalar_subquery()
        < scope.pause_after_ignored)
    return checks
