"""Loading the gate's :class:`~app.consent.gate.rules.Facts` from the database, a few set-based
queries for any number of members (the worker asks for one member just before sending)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Executable, Select, and_, bindparam, case, func, or_, select

from app.accounts.models import Member
from app.consent.gate.rules import (
    DAY,
    ConsentFact,
    ContactFact,
    Facts,
    MemberFacts,
    active_hours,
)
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
from app.consent.terms import Channel
from app.engage.models import Action
from app.extensions import db
from app.rewards.models import Entitlement

CHUNK = 500
HISTORY = 90 * DAY  # how far back a member's engagement tells their usual hour


def daily_cap() -> int:
    return int(current_app.config["CONSENT_DAILY_CAP"])


def learning() -> bool:
    return bool(current_app.config["NOTIFY_LEARNING"])


def _engagements(since: Any) -> tuple[Any, Any]:
    """The moments members engaged since ``since``: with a campaign (first and latest
    engagement per delivery) and reading an article on the site."""
    campaigns = select(Contact.member_id, Contact.engaged_at, Contact.last_engaged_at).where(
        Contact.last_engaged_at > since
    )
    reads = select(Action.member_id, Action.at).where(Action.kind == "read", Action.at > since)
    return campaigns, reads


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _rows(query: Any, column: Any, ids: Sequence[int] | None) -> Iterator[Any]:
    if ids is None:
        yield from db.session.execute(query)
        return
    for chunk in _chunks(ids):
        yield from db.session.execute(query.where(column.in_(chunk)))


def engaged_moments(engaged: Sequence[datetime | None], now: datetime) -> list[datetime]:
    """The distinct moments of one delivery's first and latest engagement, up to ``now``."""
    return [at for at in dict.fromkeys(engaged) if at is not None and at <= now]


def load_facts(member_ids: Collection[int] | None = None, now: datetime | None = None) -> Facts:
    """The facts of ``member_ids`` (every member when None). Unknown ids are left out, so the
    gate answers ``account`` for them. With ``now``, and learning on, each member's usual
    hours are read from their engagement in the :data:`HISTORY` up to then."""
    ids = sorted(set(member_ids)) if member_ids is not None else None
    base: dict[int, dict[str, Any]] = {}
    for row in _rows(
        select(Member.id, Member.deleted_at, Member.email_verified_at, Member.time_zone),
        Member.id,
        ids,
    ):
        base[row.id] = {
            "member_id": row.id,
            "active": row.deleted_at is None,
            "email_verified": row.email_verified_at is not None,
            "time_zone": row.time_zone,
        }
    for (member_id,) in _rows(
        select(Member.id).join(Suppression, Suppression.address_key == Member.email_key),
        Member.id,
        ids,
    ):
        base[member_id]["email_suppressed"] = True
    usable = and_(WebhookEndpoint.verified_at.is_not(None), WebhookEndpoint.disabled_at.is_(None))
    for member_id, verified, enabled in _rows(
        select(
            WebhookEndpoint.member_id,
            func.count(WebhookEndpoint.verified_at),
            func.sum(case((usable, 1), else_=0)),
        ).group_by(WebhookEndpoint.member_id),
        WebhookEndpoint.member_id,
        ids,
    ):
        base[member_id]["webhook_verified"] = verified > 0
        base[member_id]["webhook_enabled"] = (enabled or 0) > 0
    for chat in _rows(select(TelegramChat), TelegramChat.member_id, ids):
        base[chat[0].member_id].update(
            telegram_linked=True, telegram_blocked=chat[0].blocked_at is not None
        )
    for member_id, number_failed in _rows(
        select(
            PhoneNumber.member_id,
            select(Suppression.id)
            .where(Suppression.address_key == PhoneNumber.number)
            .exists()
            .label("failed"),
        ),
        PhoneNumber.member_id,
        ids,
    ):
        base[member_id].update(sms_verified=True, sms_suppressed=bool(number_failed))
    for member_id, subscribed, enabled in _rows(
        select(
            PushSubscription.member_id,
            func.count(PushSubscription.id),
            func.sum(case((PushSubscription.disabled_at.is_(None), 1), else_=0)),
        ).group_by(PushSubscription.member_id),
        PushSubscription.member_id,
        ids,
    ):
        base[member_id]["push_subscribed"] = subscribed > 0
        base[member_id]["push_enabled"] = (enabled or 0) > 0
    for pref in _rows(select(ConsentPreferences), ConsentPreferences.member_id, ids):
        p = pref[0]
        base[p.member_id].update(
            quiet_start=p.quiet_start, quiet_end=p.quiet_end, paused_until=p.paused_until
        )

    earned: defaultdict[int, set[str]] = defaultdict(set)
    for member_id, reward in _rows(
        select(Entitlement.member_id, Entitlement.reward).where(Entitlement.reward.like("scope:%")),
        Entitlement.member_id,
        ids,
    ):
        earned[member_id].add(reward.removeprefix("scope:"))
    consents: defaultdict[int, dict[tuple[str, Channel], ConsentFact]] = defaultdict(dict)
    for (state,) in _rows(select(ConsentState), ConsentState.member_id, ids):
        consents[state.member_id][(state.scope, state.channel)] = ConsentFact(
            state.granted,
            state.wording_version,
            state.granted_at,
            state.changed_at,
            state.wording_hash,
        )
    not_for_me: defaultdict[int, set[str]] = defaultdict(set)
    resumed: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    asked: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    for (pause,) in _rows(select(ScopePause), ScopePause.member_id, ids):
        if pause.not_for_me_at is not None:
            not_for_me[pause.member_id].add(pause.scope)
        if pause.resumed_at is not None:
            resumed[pause.member_id][pause.scope] = pause.resumed_at
        if pause.asked_at is not None:
            asked[pause.member_id][pause.scope] = pause.asked_at
    moments: defaultdict[int, list[datetime]] = defaultdict(list)
    if learning() and now is not None:
        campaigns, reads = _engagements(now - HISTORY)
        for member_id, *engaged in _rows(campaigns, Contact.member_id, ids):
            moments[member_id].extend(engaged_moments(engaged, now))
        for member_id, at in _rows(reads, Action.member_id, ids):
            if at <= now:
                moments[member_id].append(at)
    contacts: defaultdict[int, list[ContactFact]] = defaultdict(list)
    for row in _rows(
        select(
            Contact.member_id,
            Contact.scope,
            Contact.campaign,
            Contact.kind,
            Contact.sent_at,
            Contact.engaged_at,
            Contact.last_engaged_at,
        ),
        Contact.member_id,
        ids,
    ):
        contacts[row.member_id].append(
            ContactFact(
                row.scope, row.campaign, row.kind, row.sent_at, row.engaged_at, row.last_engaged_at
            )
        )

    members = {
        member_id: MemberFacts(
            **values,
            earned=frozenset(earned[member_id]),
            consents=consents[member_id],
            not_for_me=frozenset(not_for_me[member_id]),
            resumed_at=resumed[member_id],
            contacts=tuple(contacts[member_id]),
            asked_at=asked[member_id],
            active_hours=active_hours(moments[member_id], values["time_zone"]),
        )
        for member_id, values in base.items()
    }
    return Facts(members=members, daily_cap=daily_cap(), learning=learning())


def facts_for(member_id: int, now: datetime | None = None) -> Facts:
    """Every fact about one member (every scope and channel); with ``now``, their usual
    hours up to then too."""
    return load_facts([member_id], now)


def _address_columns(channel: Channel) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """The columns of the address facts of ``channel`` (labelled as :class:`MemberFacts`
    names them), and the outer joins they need. A delivery on one channel reads only its own
    channel's address: the others cannot change the gate's answer for it."""
    if channel == Channel.EMAIL:
        suppressed = select(Suppression.id).where(Suppression.address_key == Member.email_key)
        return [suppressed.exists().label("email_suppressed")], []
    if channel == Channel.WEBHOOK:
        endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.member_id == Member.id)
        verified = endpoints.where(WebhookEndpoint.verified_at.is_not(None))
        usable = verified.where(WebhookEndpoint.disabled_at.is_(None))
        return [
            verified.exists().label("webhook_verified"),
            usable.exists().label("webhook_enabled"),
        ], []
    if channel == Channel.TELEGRAM:
        return [
            TelegramChat.member_id.is_not(None).label("telegram_linked"),
            TelegramChat.blocked_at.is_not(None).label("telegram_blocked"),
        ], [(TelegramChat, TelegramChat.member_id == Member.id)]
    if channel == Channel.SMS:
        failed = select(Suppression.id).where(Suppression.address_key == PhoneNumber.number)
        return [
            PhoneNumber.member_id.is_not(None).label("sms_verified"),
            failed.exists().label("sms_suppressed"),
        ], [(PhoneNumber, PhoneNumber.member_id == Member.id)]
    if channel == Channel.PUSH:
        browsers = select(PushSubscription.id).where(PushSubscription.member_id == Member.id)
        return [
            browsers.exists().label("push_subscribed"),
            browsers.where(PushSubscription.disabled_at.is_(None)).exists().label("push_enabled"),
        ], []
    return [], []


@cache
def _send_queries(channel: Channel) -> tuple[Executable, Executable, tuple[str, ...]]:
    """The two statements of :func:`facts_for_send` for ``channel``, built once: their
    parameters are bound per call, so a delivery pays for no statement construction. The
    third value names the address facts the first one reads."""
    prefs, state, pause = ConsentPreferences, ConsentState, ScopePause
    addresses, joins = _address_columns(channel)
    member = select(
        Member.deleted_at,
        Member.email_verified_at,
        Member.time_zone,
        prefs.quiet_start,
        prefs.quiet_end,
        prefs.paused_until,
        *addresses,
        select(Entitlement.member_id)
        .where(Entitlement.member_id == Member.id, Entitlement.reward == bindparam("reward"))
        .exists()
        .label("earned"),
        state.granted,
        state.wording_version,
        state.granted_at,
        state.changed_at,
        state.wording_hash,
        pause.not_for_me_at,
        pause.resumed_at,
        pause.asked_at,
    ).outerjoin(prefs, prefs.member_id == Member.id)
    for table, on in joins:
        member = member.outerjoin(table, on)
    member = (
        member.outerjoin(
            state,
            and_(
                state.member_id == Member.id,
                state.scope == bindparam("scope"),
                state.channel == bindparam("channel"),
            ),
        )
        .outerjoin(pause, and_(pause.member_id == Member.id, pause.scope == bindparam("scope")))
        .where(Member.id == bindparam("member_id"))
    )
    contacts = select(
        Contact.scope,
        Contact.campaign,
        Contact.kind,
        Contact.sent_at,
        Contact.engaged_at,
        Contact.last_engaged_at,
    ).where(
        Contact.member_id == bindparam("member_id"),
        or_(Contact.scope == bindparam("scope"), Contact.sent_at > bindparam("since")),
    )
    return member, contacts, tuple(column.name for column in addresses)


@cache
def _moment_queries() -> tuple[Executable, Executable]:
    """The member's engagement moments (:func:`_engagements`), for :func:`facts_for_send`."""
    campaigns, reads = _engagements(bindparam("history"))
    member: Any = bindparam("member_id")
    return (
        campaigns.where(Contact.member_id == member),
        reads.where(Action.member_id == member),
    )


def facts_for_send(member_id: int, scope: str, channel: Channel, now: datetime) -> Facts:
    """The facts the gate reads to decide about one delivery of ``scope`` on ``channel`` at
    ``now``, in two queries: the member with their preferences, the address facts of
    ``channel`` (:func:`_address_columns`), entitlement, consent state and pause of
    ``scope``; then their contacts on ``scope`` and every contact of the last day (the daily
    cap). :func:`decide` answers on them exactly as
    on :func:`load_facts` for that scope, channel and moment (a property test checks it)."""
    member_query, contact_query, address_facts = _send_queries(channel)
    params = {
        "member_id": member_id,
        "scope": scope,
        "channel": channel,
        "reward": f"scope:{scope}",
        "since": now - DAY,
    }
    connection = db.session.connection()
    row = connection.execute(member_query, params).one_or_none()
    if row is None:
        return Facts(members={}, daily_cap=daily_cap())
    contacts = tuple(
        ContactFact(c.scope, c.campaign, c.kind, c.sent_at, c.engaged_at, c.last_engaged_at)
        for c in connection.execute(contact_query, params)
    )
    consents = (
        {}
        if row.granted is None
        else {
            (scope, channel): ConsentFact(
                row.granted, row.wording_version, row.granted_at, row.changed_at, row.wording_hash
            )
        }
    )
    member = MemberFacts(
        member_id=member_id,
        active=row.deleted_at is None,
        email_verified=row.email_verified_at is not None,
        **{name: bool(getattr(row, name)) for name in address_facts},
        time_zone=row.time_zone,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        paused_until=row.paused_until,
        earned=frozenset({scope} if row.earned else ()),
        consents=consents,
        not_for_me=frozenset({scope} if row.not_for_me_at is not None else ()),
        resumed_at={scope: row.resumed_at} if row.resumed_at is not None else {},
        contacts=contacts,
        asked_at={scope: row.asked_at} if row.asked_at is not None else {},
        active_hours=_active_hours(member_id, row.time_zone, now) if learning() else (),
    )
    return Facts(members={member_id: member}, daily_cap=daily_cap(), learning=learning())


def _active_hours(member_id: int, time_zone: str, now: datetime) -> tuple[float, ...]:
    campaigns, reads = _moment_queries()
    params = {"member_id": member_id, "history": now - HISTORY}
    connection = db.session.connection()
    moments = [
        at
        for _, *engaged in connection.execute(campaigns, params)
        for at in engaged_moments(engaged, now)
    ]
    moments.extend(at for _, at in connection.execute(reads, params) if at <= now)
    return active_hours(moments, time_zone)


def hold_facts(member_id: int, scope: str, channel: Channel) -> None:
    """On PostgreSQL, lock ``FOR SHARE`` until the transaction ends every existing row whose
    change could change the gate's answer for (member, scope, channel): the member, the
    consent state, the preferences, the scope's pause, the address's suppression, the
    webhook endpoints, the Telegram chat, the phone number and its suppression, the push
    subscriptions and the entitlement. A writer of any of them waits
    for the send in flight; the caller reads the facts after this returns. One statement:
    each table's rows are locked by a sub-select of their own."""
    db.session.connection().execute(
        _hold_statement(channel),
        {"member_id": member_id, "scope": scope, "channel": channel, "reward": f"scope:{scope}"},
    )


@cache
def _hold_statement(channel: Channel) -> Executable:
    member_id: Any = bindparam("member_id")
    scope: Any = bindparam("scope")

    def held(query: Select[Any]) -> Any:
        return select(func.count()).select_from(query.subquery()).scalar_subquery()

    locks = [
        held(select(Member.id).where(Member.id == member_id).with_for_update(read=True)),
        held(
            select(ConsentState.member_id)
            .where(
                ConsentState.member_id == member_id,
                ConsentState.scope == scope,
                ConsentState.channel == bindparam("channel"),
            )
            .with_for_update(read=True)
        ),
        held(
            select(ConsentPreferences.member_id)
            .where(ConsentPreferences.member_id == member_id)
            .with_for_update(read=True)
        ),
        held(
            select(ScopePause.member_id)
            .where(ScopePause.member_id == member_id, ScopePause.scope == scope)
            .with_for_update(read=True)
        ),
        held(
            select(Entitlement.member_id)
            .where(Entitlement.member_id == member_id, Entitlement.reward == bindparam("reward"))
            .with_for_update(read=True)
        ),
    ]
    if channel == Channel.EMAIL:
        locks.append(
            held(
                select(Suppression.address_key)
                .join(Member, Member.email_key == Suppression.address_key)
                .where(Member.id == member_id)
                .with_for_update(of=Suppression, read=True)
            )
        )
    # The channel's address rows, each the member's own (``member_id``).
    addresses = {
        Channel.WEBHOOK: WebhookEndpoint.member_id,
        Channel.TELEGRAM: TelegramChat.member_id,
        Channel.SMS: PhoneNumber.member_id,
        Channel.PUSH: PushSubscription.member_id,
    }
    if channel in addresses:
        owner = addresses[channel]
        locks.append(held(select(owner).where(owner == member_id).with_for_update(read=True)))
    if channel == Channel.SMS:
        locks.append(
            held(
                select(Suppression.address_key)
                .join(PhoneNumber, PhoneNumber.number == Suppression.address_key)
                .where(PhoneNumber.member_id == member_id)
                .with_for_update(of=Suppression, read=True)
            )
        )
    return select(*locks)
