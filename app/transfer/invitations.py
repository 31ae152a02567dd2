"""The one plain mail each imported member gets, sent by the worker at the run's rate.

Two kinds (:class:`~app.transfer.importing.InvitationKind`): ``keep`` goes to a member whose
consent was imported with evidence to the scope's current words ("confirm your address to keep
receiving …"); ``ask`` to everyone else ("you were on … ; say yes again here"). Both are system
messages carrying the address confirmation link of :mod:`app.accounts.links` (which also signs
the member in, once, soon after the mail), leading to the permissions page. Nothing else is ever
sent to an imported member before they confirm: the gate refuses unconfirmed addresses.

Rate: a run's invitations are spread evenly, one every ``rate_seconds / rate_count`` seconds
counted from the run's first invitation, and never more than ``rate_count`` in any
``rate_seconds``. An invitation is sent at most once (``member_id`` is unique in the table, and
each is committed as sent right after it leaves); one the mail server refuses is tried again on
later ticks and given up after :data:`MAX_ATTEMPTS`. A closed account, or an address that
bounced or complained, is ``skipped``.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template
from sqlalchemy import func, select

from app.accounts.links import LIFETIMES, make_link
from app.accounts.models import Member
from app.consent.models import Suppression
from app.consent.scopes import find_scope
from app.extensions import db
from app.mail.message import MailError, Message
from app.mail.sending import open_transport, send_message
from app.mail.transport import Transport
from app.transfer.importing import InvitationKind, InvitationState
from app.transfer.models import ImportInvitation, ImportRun
from app.web.urls import external_url

log = logging.getLogger("pullfirst.transfer")

MAX_ATTEMPTS = 5
TICK_LIMIT = 500  # invitations one worker tick sends at most, over every run


def allowance(run: ImportRun, now: datetime) -> int:
    """How many of the run's invitations may go now (see the module's rate rule)."""
    window = timedelta(seconds=run.rate_seconds)
    sent = ImportInvitation.state == InvitationState.SENT
    mine = ImportInvitation.run_id == run.id
    first, total = db.session.execute(
        select(func.min(ImportInvitation.sent_at), func.count()).where(mine, sent)
    ).one()
    recent = db.session.scalar(
        select(func.count()).where(mine, sent, ImportInvitation.sent_at > now - window)
    )
    in_window = run.rate_count - int(recent or 0)
    if first is None:
        return max(0, min(1, in_window))
    spacing = run.rate_seconds / run.rate_count
    earned = math.floor((now - first).total_seconds() / spacing) + 1
    return max(0, min(earned - int(total), in_window))


def _message(invitation: ImportInvitation, member: Member, run: ImportRun) -> Message:
    scope = find_scope(run.scope)
    keep = invitation.kind == InvitationKind.KEEP
    next_path = urlsplit(external_url("consent.permissions_page")).path
    url = external_url("accounts.verify", token=make_link("verify", member), next=next_path)
    title = scope.title if scope is not None else run.scope
    subject = (
        f"Confirm your address to keep receiving {title}"
        if keep
        else f"You were on {run.old_list}: say yes again if you like"
    )
    context = {
        "subject": subject,
        "member": member,
        "scope": scope,
        "title": title,
        "old_list": run.old_list,
        "joined_at": invitation.joined_at,
        "url": url,
        "lifetime": f"{LIFETIMES['verify'].days} days",
        "reader_zone": member.time_zone,
    }
    template = "transfer/import_mail_keep" if keep else "transfer/import_mail_ask"
    return Message(
        to=member.email,
        to_name=member.display_name,
        subject=subject,
        text=render_template(f"{template}.txt", **context),
        html=render_template(f"{template}.html", **context),
        headers={"Auto-Submitted": "auto-generated"},
        message_id=invitation.message_id,
    )


def _message_id() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return make_msgid(domain=address.rsplit("@", 1)[-1] or None)


def _suppressed(member: Member) -> bool:
    found = db.session.scalar(
        select(Suppression.id).where(Suppression.address_key == member.email_key)
    )
    return found is not None


def send_invitation(
    invitation: ImportInvitation, run: ImportRun, now: datetime, transport: Transport
) -> str:
    """Send one queued invitation and record the outcome (the caller commits); returns its
    new state. A refusal by the mail server is recorded for a later try, never raised."""
    member = db.session.get(Member, invitation.member_id)
    if member is None or not member.is_active or _suppressed(member):
        invitation.state = InvitationState.SKIPPED
        return invitation.state
    if invitation.message_id is None:
        invitation.message_id = _message_id()
    try:
        send_message(_message(invitation, member, run), transport)
    except MailError as exc:
        invitation.attempts += 1
        invitation.last_error = str(exc)[:300]
        if invitation.attempts >= MAX_ATTEMPTS:
            invitation.state = InvitationState.DEAD
            log.error("gave up inviting imported member %s", member.id)
        return invitation.state
    invitation.state, invitation.sent_at, invitation.last_error = InvitationState.SENT, now, None
    return invitation.state


def _claim(invitation_id: int) -> ImportInvitation | None:
    """The invitation, locked for this transaction (another worker on PostgreSQL skips it),
    if it is still queued."""
    return db.session.scalar(
        select(ImportInvitation)
        .where(
            ImportInvitation.id == invitation_id, ImportInvitation.state == InvitationState.QUEUED
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def send_due_invitations(now: datetime) -> int:
    """The worker chore: send what each run's rate allows now; commits after each
    invitation. Returns how many were sent."""
    run_ids = list(
        db.session.scalars(
            select(ImportInvitation.run_id)
            .where(ImportInvitation.state == InvitationState.QUEUED)
            .distinct()
            .order_by(ImportInvitation.run_id)
        )
    )
    db.session.commit()
    sent = 0
    budget = TICK_LIMIT
    if not run_ids:
        return 0
    try:
        with open_transport() as transport:
            for run_id in run_ids:
                run = db.session.get_one(ImportRun, run_id)
                room = min(allowance(run, now), budget)
                ids = (
                    list(
                        db.session.scalars(
                            select(ImportInvitation.id)
                            .where(
                                ImportInvitation.run_id == run_id,
                                ImportInvitation.state == InvitationState.QUEUED,
                            )
                            .order_by(ImportInvitation.id)
                            .limit(room)
                        )
                    )
                    if room > 0
                    else []
                )
                db.session.commit()
                for invitation_id in ids:
                    invitation = _claim(invitation_id)
                    if invitation is None:
                        db.session.rollback()
                        continue
                    state = send_invitation(invitation, run, now, transport)
                    db.session.commit()
                    sent += state == InvitationState.SENT
                    budget -= 1
    except MailError:  # the mail server itself is away: what is left waits for the next tick
        db.session.rollback()
        log.exception("could not send the import invitations that are due")
    return sent
