"""Marketers' view of members: find a member, then see per scope and channel what the gate
decides for them now (or at another time) and why, their consent history and recent messages.
A marketer may record a stop on a member's behalf (source ``admin``), never a yes."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app import clock
from app.accounts.members import get_member
from app.accounts.models import Member
from app.accounts.roles import role_required
from app.consent import permissions, webhooks
from app.consent.gate import contacts
from app.consent.gate.explain import explain
from app.consent.gate.facts import facts_for
from app.consent.gate.rules import Campaign
from app.consent.ledger import consents, preferences
from app.consent.ledger.consents import Origin
from app.consent.models import ConsentState
from app.consent.scopes import channel_label, find_scope
from app.consent.terms import Channel, ConsentSource
from app.consent.views.forms import ButtonForm
from app.consent.words import action_words, admin_stop_sentence, channel_words, source_words
from app.extensions import db
from app.web.times import from_wall_clock, reader_zone, wall_clock

PAGE_SIZE = 50
MAX_QUERY = 100
MAX_PAGE = 100_000


def _moment(text: str | None) -> datetime:
    """``?at=`` from a datetime-local field (on the viewer's own clock), or now."""
    if text:
        try:
            moment = datetime.fromisoformat(text[:32])
        except ValueError:
            flash("That time could not be read; showing now instead.", "error")
        else:
            return from_wall_clock(moment, reader_zone()) if moment.tzinfo is None else moment
    return clock.now()


@role_required("marketer")
def members() -> str:
    # No address holds a NUL (which PostgreSQL refuses); a page past MAX_PAGE would overflow
    # the database's offset.
    query = (request.args.get("q") or "").replace("\x00", "").strip()[:MAX_QUERY]
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    granted = (
        select(func.count())
        .select_from(ConsentState)
        .where(ConsentState.member_id == Member.id, ConsentState.granted.is_(True))
        .scalar_subquery()
    )
    statement = select(Member, granted).where(Member.deleted_at.is_(None))
    if query:
        escaped = query.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Member.email_key.like(f"%{escaped}%", escape="\\"))
    rows = db.session.execute(
        statement.order_by(Member.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    return render_template(
        "admin/members.html",
        rows=rows[:PAGE_SIZE],
        query=query,
        page=page,
        more=len(rows) > PAGE_SIZE,
    )


@role_required("marketer")
def member(member_id: int) -> str:
    found = get_member(member_id)
    if found is None:
        abort(404)
    moment = _moment(request.args.get("at"))
    facts = facts_for(found.id, moment)
    rows = permissions.permissions_of(found.id)
    gate = [
        (row, channel, *explain(facts, Campaign.of(row.scope), found.id, channel, moment))
        for row in rows
        if row.scope is not None
        for channel in row.scope.channels
    ]
    return render_template(
        "admin/member.html",
        member=found,
        rows=rows,
        gate=gate,
        moment=moment,
        moment_input=f"{wall_clock(moment, reader_zone()):%Y-%m-%dT%H:%M}",
        events=consents.history(found.id),
        sent=contacts.contacts_of(found.id, limit=20),
        prefs=preferences.preferences_of(found.id),
        endpoints=webhooks.endpoints_of(found.id),
        form=ButtonForm(),
        action_words=action_words,
        channel_words=channel_words,
        channel_label=channel_label,
        source_words=source_words,
    )


@role_required("marketer")
def member_stop(member_id: int, scope: str, channel: Channel) -> Response:
    """Record a stop the member asked for by other means (a reply, a call). The member's own
    words are not ours to have here: the ledger records the sentence of the button the
    marketer pressed, with the source ``admin``."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    if get_member(member_id) is None:
        abort(404)
    slug = scope[:64]
    found = find_scope(slug)
    event = consents.revoke_consent(
        member_id,
        slug,
        channel[:16],
        Origin(ConsentSource.ADMIN, url_for("admin.member", member_id=member_id)),
        clock.now(),
        wording=admin_stop_sentence(found.title if found else slug, channel[:16]),
    )
    db.session.commit()
    flash("Stopped." if event else "Nothing to stop: there was no yes.", "success")
    return redirect(url_for("admin.member", member_id=member_id))
