"""The outbox: filling it from the gate's audience, leasing due deliveries to workers, and
holding back what was queued when a member says no.

Filling inserts one delivery per (campaign, member, channel) in batches; the unique constraint
makes a second fill of the same campaign add nothing. Claiming leases up to N due deliveries
(queued or waiting for a retry, and leased ones whose lease ran out): on PostgreSQL with
``FOR UPDATE SKIP LOCKED`` so any number of workers share the outbox without taking the same
row; on SQLite inside the ``BEGIN IMMEDIATE`` transaction every write transaction starts with,
so claims queue behind each other.

When a delivery ends, the worker emits :class:`DeliverySent` or :class:`DeliveryFailed` (the
dead letter) in the transaction that records it, for the areas above that tell other systems.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, func, or_, select, update

from app import events
from app.consent.gate.audience import audience
from app.consent.gate.facts import load_facts
from app.consent.gate.rules import DAY, MONTH, WEEK, decide
from app.consent.gate.rules import Campaign as GateCampaign
from app.consent.scopes import Scope
from app.consent.terms import DEFERRING, GATED_KINDS, Channel, GateReason
from app.extensions import db
from app.notify.models import Campaign, Delivery
from app.notify.states import WAITING, CampaignState, DeliveryState

INSERT_BATCH = 2_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DeliverySent(events.Event):
    """A campaign's delivery to a member on a channel was handed over (``message_id`` is the
    channel's own id: the Message-ID, the webhook-id…). Handlers run in the transaction that
    records it."""

    name = "delivery-sent"
    delivery_id: int
    campaign_id: int
    member_id: int
    channel: str
    message_id: str | None
    at: datetime


@dataclass(frozen=True)
class DeliveryFailed(events.Event):
    """A campaign's delivery was given up for good (the dead letter): ``reason`` says why
    (``attempts``, ``refused``, ``endpoint-gone``, ``undelivered`` …), ``error`` what the
    channel said. Handlers run in the transaction that records it."""

    name = "delivery-failed"
    delivery_id: int
    campaign_id: int
    member_id: int
    channel: str
    reason: str | None
    error: str | None
    at: datetime


def gate_campaign(campaign: Campaign, scope: Scope) -> GateCampaign:
    """The campaign as the gate sees it. One sent outside the gate before every campaign was
    gated counts as a campaign of its scope's kind for whatever of it still waits."""
    kind = campaign.kind if campaign.kind in GATED_KINDS else scope.kind
    return GateCampaign(scope, kind, campaign.ref)


# One delivery row, skipped when the (campaign, member, channel) is already in the outbox; in
# the driver's own parameter style (sqlite3: qmark, psycopg: format).
INSERT_ROW = {
    "qmark": "INSERT INTO deliveries (campaign_id, member_id, channel, state, attempts, due_at, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (campaign_id, member_id, channel) DO NOTHING",
    "format": "INSERT INTO deliveries (campaign_id, member_id, channel, state, attempts, "
    "due_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (campaign_id, member_id, channel) DO NOTHING",
}


def fill_outbox(
    campaign: Campaign,
    scope: Scope,
    now: datetime,
    progress: Progress | None = None,
    audiences: Mapping[str, Iterable[int]] | None = None,
    waiting: Mapping[str, Mapping[int, datetime]] | None = None,
) -> dict[str, int]:
    """Queue a delivery for every member the gate lets ``campaign`` reach on each of its
    channels at ``now`` (or for the members ``audiences`` gives per channel, when the caller
    ran the gate already), due now, and for the members ``waiting`` gives per channel, due
    at the moment it gives (:func:`lapsing_soon`). Returns the audience size per channel.
    Flushes; the caller commits."""
    sizes: dict[str, int] = {}
    # The rows go to the driver's executemany as plain tuples, the time converted once:
    # SQLAlchemy's per-row parameter processing cost more than the insert itself.
    to_database = cast(Table, Delivery.__table__).c.due_at.type.bind_processor(db.engine.dialect)
    stamp = to_database(now) if to_database is not None else now
    sql = INSERT_ROW["qmark" if db.engine.dialect.paramstyle == "qmark" else "format"]
    db.session.flush()
    connection = db.session.connection()
    for channel in campaign.channel_list:
        if audiences is not None and channel in audiences:
            members = sorted(audiences[channel])
        else:
            members = sorted(audience(scope, channel, now, gate_campaign(campaign, scope)))
        later = (waiting or {}).get(channel, {})
        sizes[channel] = len(members) + len(later)
        for start in range(0, len(members), INSERT_BATCH):
            chunk = members[start : start + INSERT_BATCH]
            connection.exec_driver_sql(
                sql, [(campaign.id, member, channel, "queued", 0, stamp, stamp) for member in chunk]
            )
            if progress is not None:
                progress(len(chunk))
        if later:
            connection.exec_driver_sql(
                sql,
                [
                    (campaign.id, member, channel, "queued", 0, to_database(at), stamp)
                    if to_database is not None
                    else (campaign.id, member, channel, "queued", 0, at, stamp)
                    for member, at in sorted(later.items())
                ],
            )
    return sizes


# The checks that lapse by themselves within a day, so a member held only by them can wait.
LAPSING = frozenset({GateReason.CAP, GateReason.COOLDOWN})


def lapsing_soon(
    campaign: GateCampaign,
    channel: Channel,
    now: datetime,
    within: timedelta,
    reached: Collection[int],
) -> dict[int, datetime]:
    """The members (not in ``reached``) the gate holds back from ``campaign`` on ``channel``
    at ``now`` only because of the caps or the cooldown, when these lapse within ``within``:
    each with the first moment the gate lets them through. A weekly letter made early on its
    day thus still reaches a member whose last letter arrived later on the same day a week
    ago, when the week is over, instead of skipping them."""
    later = audience(campaign.scope, channel, now + within, campaign) - set(reached)
    if not later:
        return {}
    facts = load_facts(later, now)
    found: dict[int, datetime] = {}
    for member in sorted(later):
        facts_of = facts.members.get(member)
        decision = decide(facts, campaign, member, channel, now)
        if facts_of is None or not set(decision.reasons) - DEFERRING <= LAPSING:
            continue
        moments = {
            c.sent_at + span + timedelta(seconds=1)
            for c in facts_of.contacts
            for span in (DAY, WEEK, MONTH)
        }
        consent = facts_of.consents.get((campaign.scope.slug, channel))
        if consent is not None and consent.granted_at is not None:
            moments.add(consent.granted_at + timedelta(hours=campaign.scope.cooldown_hours))
        for moment in sorted(m for m in moments if now < m <= now + within):
            if decide(facts, campaign, member, channel, moment).eligible:
                found[member] = moment
                break
    return found


def claim(
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    skip_channels: Collection[Channel] = (),
) -> list[int]:
    """Lease up to ``limit`` due deliveries to ``worker`` until ``now + lease`` and commit,
    leaving out ``skip_channels`` (channels the worker knows to be down). Each claim counts as
    an attempt. Returns their ids, oldest due first."""
    due = or_(
        and_(
            Delivery.state.in_((DeliveryState.QUEUED, DeliveryState.RETRY)), Delivery.due_at <= now
        ),
        and_(Delivery.state == DeliveryState.LEASED, Delivery.lease_until < now),
    )
    query = select(Delivery.id).where(due).order_by(Delivery.due_at, Delivery.id).limit(limit)
    if skip_channels:
        query = query.where(Delivery.channel.not_in(sorted(skip_channels)))
    if db.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                state=DeliveryState.LEASED,
                lease_until=now + lease,
                leased_by=worker,
                attempts=Delivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def release(ids: Iterable[int], worker: str) -> int:
    """Give back leased deliveries untouched (a worker that stops); they are due at once and
    the attempt does not count. The caller commits."""
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(list(ids)),
            Delivery.state == DeliveryState.LEASED,
            Delivery.leased_by == worker,
        )
        .values(
            state=DeliveryState.QUEUED,
            lease_until=None,
            leased_by=None,
            attempts=Delivery.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def hold_back(member_id: int, scope: str, channel: str, reason: str, now: datetime) -> int:
    """Suppress the member's waiting deliveries of campaigns on ``scope`` and ``channel``
    (after a revoke). Leased ones are caught by the worker's own check."""
    campaigns = select(Campaign.id).where(Campaign.scope == scope)
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.member_id == member_id,
            Delivery.channel == channel,
            Delivery.state.in_((DeliveryState.QUEUED, DeliveryState.RETRY)),
            Delivery.campaign_id.in_(campaigns),
        )
        .values(state=DeliveryState.SUPPRESSED, reason=reason, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_waiting(campaign_id: int, now: datetime) -> int:
    """Cancel the campaign's deliveries that have not been taken by a worker."""
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.state.in_((DeliveryState.QUEUED, DeliveryState.RETRY)),
        )
        .values(state=DeliveryState.CANCELLED, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def waiting_count(campaign_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.state.in_(WAITING))
        )
        or 0
    )


def finish_campaigns(now: datetime) -> int:
    """Mark campaigns whose outbox has nothing left waiting as sent. The caller commits."""
    waiting = (
        select(Delivery.id)
        .where(Delivery.campaign_id == Campaign.id, Delivery.state.in_(WAITING))
        .exists()
    )
    result = db.session.execute(
        update(Campaign)
        .where(Campaign.state == CampaignState.SENDING, ~waiting)
        .values(state=DeliveryState.SENT, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
