"""Loading the gate's :class:`~app.consent.gate.Facts` from the database, a few set-based
queries for any number of members (the worker asks for one member just before sending)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, select

from app.accounts.models import Member
from app.consent.gate import ConsentFact, ContactFact, Facts, MemberFacts
from app.consent.models import (
    ConsentPreferences,
    ConsentState,
    Contact,
    ScopePause,
    Suppression,
    WebhookEndpoint,
)
from app.extensions import db
from app.rewards.models import Entitlement

CHUNK = 500


def daily_cap() -> int:
    return int(current_app.config["CONSENT_DAILY_CAP"])


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _rows(query: Any, column: Any, ids: Sequence[int] | None) -> Iterator[Any]:
    if ids is None:
        yield from db.session.execute(query)
        return
    for chunk in _chunks(ids):
        yield from db.session.execute(query.where(column.in_(chunk)))


def load_facts(member_ids: Collection[int] | None = None) -> Facts:
    """The facts of ``member_ids`` (every member when None). Unknown ids are left out, so the
    gate answers ``account`` for them."""
    ids = sorted(set(member_ids)) if member_ids is not None else None
    base: dict[int, dict[str, Any]] = {}
    for row in _rows(select(Member.id, Member.deleted_at, Member.email_verified_at,
                            Member.time_zone), Member.id, ids):
        base[row.id] = {"member_id": row.id, "active": row.deleted_at is None,
                        "email_verified": row.email_verified_at is not None,
                        "time_zone": row.time_zone}
    for (member_id,) in _rows(
        select(Member.id).join(Suppression, Suppression.address_key == Member.email_key),
        Member.id, ids,
    ):
        base[member_id]["email_suppressed"] = True
    usable = and_(WebhookEndpoint.verified_at.is_not(None), WebhookEndpoint.disabled_at.is_(None))
    for member_id, verified, enabled in _rows(
        select(WebhookEndpoint.member_id,
               func.count(WebhookEndpoint.verified_at),
               func.sum(case((usable, 1), else_=0)))
        .group_by(WebhookEndpoint.member_id), WebhookEndpoint.member_id, ids,
    ):
        base[member_id]["webhook_verified"] = verified > 0
        base[member_id]["webhook_enabled"] = (enabled or 0) > 0
    for pref in _rows(select(ConsentPreferences), ConsentPreferences.member_id, ids):
        p = pref[0]
        base[p.member_id].update(quiet_start=p.quiet_start, quiet_end=p.quiet_end,
                                 paused_until=p.paused_until)

    earned: defaultdict[int, set[str]] = defaultdict(set)
    for member_id, reward in _rows(
        select(Entitlement.member_id, Entitlement.reward).where(Entitlement.reward.like("scope:%")),
        Entitlement.member_id, ids,
    ):
        earned[member_id].add(reward.removeprefix("scope:"))
    consents: defaultdict[int, dict[tuple[str, str], ConsentFact]] = defaultdict(dict)
    for (state,) in _rows(select(ConsentState), ConsentState.member_id, ids):
        consents[state.member_id][(state.scope, state.channel)] = ConsentFact(
            state.granted, state.wording_version, state.granted_at, state.changed_at)
    not_for_me: defaultdict[int, set[str]] = defaultdict(set)
    resumed: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    for (pause,) in _rows(select(ScopePause), ScopePause.member_id, ids):
        if pause.not_for_me_at is not None:
            not_for_me[pause.member_id].add(pause.scope)
        if pause.resumed_at is not None:
            resumed[pause.member_id][pause.scope] = pause.resumed_at
    contacts: defaultdict[int, list[ContactFact]] = defaultdict(list)
    for row in _rows(select(Contact.member_id, Contact.scope, Contact.campaign, Contact.kind,
                            Contact.sent_at, Contact.engaged_at, Contact.last_engaged_at),
                     Contact.member_id, ids):
        contacts[row.member_id].append(ContactFact(row.scope, row.campaign, row.kind,
                                                   row.sent_at, row.engaged_at,
                                                   row.last_engaged_at))

    members = {
        member_id: MemberFacts(
            **values, earned=frozenset(earned[member_id]), consents=consents[member_id],
            not_for_me=frozenset(not_for_me[member_id]), resumed_at=resumed[member_id],
            contacts=tuple(contacts[member_id]),
        )
        for member_id, values in base.items()
    }
    return Facts(members=members, daily_cap=daily_cap())


def facts_for(member_id: int) -> Facts:
    """The facts of one member, for a decision just before sending."""
    return load_facts([member_id])
