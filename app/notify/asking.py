"""The one "still want this?" message after a pause by silence.

When a member left ``pause_after_ignored`` messages of a scope unopened, the gate pauses the
scope for them (``paused``). The first campaign held back by that pause alone goes to them, in
its place, as a short question instead (:func:`~app.consent.gate.rules.may_ask` says when):
on the same channel, inside the promise like any campaign (every other check of the gate
passed), once per pause. Its one link leads to the member's permissions page; following it
is engagement, which ends the pause at once. Left unopened, nothing more is sent until the
member acts. The delivery is marked :data:`ASKED`, so the inbox shows the question too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite

from app.consent.gate.facts import load_facts
from app.consent.gate.rules import Campaign as GateCampaign
from app.consent.gate.rules import decide, may_ask, relevant_contacts
from app.consent.models import ScopePause
from app.consent.scopes import Scope
from app.consent.terms import DEFERRING, Channel, GateReason
from app.extensions import db
from app.notify.render import PreparedBody, prepared_body
from app.web.urls import external_url

ASKED = "asked"  # the delivery carried the question, not the campaign


def ask_title(scope_title: str) -> str:
    return f"Still want {scope_title}?"


def ask_body(scope: Scope, unopened: int) -> PreparedBody:
    """The question, in Markdown: what happened, the one link that brings the scope back,
    and that silence is the answer too."""
    url = external_url("consent.permissions_page", _anchor=f"scope-{scope.slug}")
    text = (
        f"You have not opened the last {unopened} messages about {scope.title}, so we "
        "stopped sending them.\n\n"
        f"If you still want them, [keep {scope.title} coming]({url}): one click, and they "
        f"start again as promised. {scope.promise}\n\n"
        "If not, there is nothing to do. This is the only time we ask, and we stay quiet "
        "until you come back."
    )
    return prepared_body(text)


def claim(member_id: int, scope: str, now: datetime, since: datetime | None) -> bool:
    """Record that the member is asked about ``scope`` at ``now``, unless they were already
    asked after ``since`` (the end of their last pause, None for never): True when this call
    is the one that asks. One statement, so two deliveries of a campaign never both ask."""
    insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    statement = insert(ScopePause).values(member_id=member_id, scope=scope, asked_at=now)
    existing = ScopePause.__table__.c.asked_at
    result = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id", "scope"],
            set_={"asked_at": now},
            where=or_(existing.is_(None), existing < since) if since else existing.is_(None),
        ).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def askable(
    campaign: GateCampaign, channel: Channel, now: datetime, paused: Collection[int]
) -> frozenset[int]:
    """Of the members held back from ``campaign`` on ``channel`` by ``paused`` alone, those
    whose pause is by silence and who may be asked whether they still want the scope: their
    delivery goes in the outbox, and the worker sends the question in its place."""
    if not paused:
        return frozenset()
    facts = load_facts(paused, now)
    if not facts.learning:
        return frozenset()
    found = set()
    for member_id, member in facts.members.items():
        decision = decide(facts, campaign, member_id, channel, now)
        blocking = [reason for reason in decision.reasons if reason not in DEFERRING]
        contacts = relevant_contacts(member, campaign, now)
        if blocking == [GateReason.PAUSED] and may_ask(member, campaign.scope, contacts, now):
            found.add(member_id)
    return frozenset(found)
