"""Taking one returned message: read it, find the delivery it is about, record what it says.

The delivery is found, in this order:

1. by a VERP envelope recipient (``bounces+<id>.<tag>@…``: the SMTP ``RCPT TO`` of the
   listener, or the ``Delivered-To``/``X-Original-To``/``Envelope-To`` headers a mail server
   adds to a Maildir message);
2. by a VERP address inside the report: a feedback report's ``Original-Mail-From`` or the
   returned original's ``Return-Path`` (feedback loops send their reports to the address
   registered with them, not to the envelope sender);
3. by the returned original's Message-ID (``<delivery-<id>@<MAIL_FROM's domain>>``). A
   Message-ID can be guessed, so this way the report must also name the member's address.

A VERP address whose tag does not verify ends the search: the report is ``forged`` and changes
nothing. What a recorded report changes:

- **hard** bounce: the address is suppressed (``hard-bounce``), unless it already was;
- **complaint**: the address is suppressed (``complaint``); nothing is revoked, but the gate's
  ``suppressed`` check stops every message to it;
- **soft** bounce: counted; the ``NOTIFY_SOFT_BOUNCE_LIMIT``-th soft bounce of different
  messages to one address within :data:`SOFT_WINDOW` suppresses it (``soft-bounces``).

The delivery shows the strongest report about it (``bounced_at``, ``bounce``). A report is kept
once per (delivery, kind), so the same report twice is a ``repeat`` that changes nothing.
The caller commits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.accounts.members import email_key
from app.accounts.models import Member
from app.consent.gate.contacts import is_suppressed, record_suppression
from app.consent.terms import Channel
from app.extensions import db
from app.notify.bounces.reports import Report, Unreadable, read_report
from app.notify.bounces.statuses import Kind, rank
from app.notify.bounces.verp import bounce_key, genuine, read_verp
from app.notify.models import Bounce, Delivery

log = logging.getLogger("pullfirst.notify.bounces")

SOFT_WINDOW = timedelta(days=30)
_DELIVERY_MESSAGE_ID = re.compile(r"<delivery-([0-9]{1,18})@([^<>\s]{1,253})>", re.IGNORECASE)
_SUPPRESSION = {Kind.HARD: "hard-bounce", Kind.COMPLAINT: "complaint", Kind.SOFT: "soft-bounces"}


class Outcome(StrEnum):
    """What taking one message did."""

    HARD = "hard"  # recorded, and the address suppressed
    SOFT = "soft"  # recorded and counted
    COMPLAINT = "complaint"  # recorded, and the address suppressed
    REPEAT = "repeat"  # the same report about the same delivery came before: nothing changed
    FORGED = "forged"  # a bounces+ address whose tag is not ours
    UNIDENTIFIED = "unidentified"  # a report, but about no delivery we know
    IGNORED = "ignored"  # not a bounce or complaint (an auto-reply, a "delivered" notice)
    REJECTED = "rejected"  # not readable as mail at all


@dataclass(frozen=True)
class Intake:
    outcome: Outcome
    delivery_id: int | None = None
    summary: str = ""


def take_report(
    raw: bytes, recipients: Sequence[str], at: datetime, null_sender: bool | None = None
) -> Intake:
    """Read the returned message ``raw`` that arrived for the envelope ``recipients`` and
    record what it says (see the module's docstring). Never raises for what the message holds;
    database errors propagate, and the caller keeps the message to try again."""
    try:
        report = read_report(raw, null_sender)
    except Unreadable as exc:
        log.warning("bounce rejected: %s (%d bytes)", exc, len(raw))
        return Intake(Outcome.REJECTED)
    except Exception:  # a message no rule foresaw must not stop the others
        log.exception("bounce rejected: the reader failed (%d bytes)", len(raw))
        return Intake(Outcome.REJECTED)
    if report is None:
        return Intake(Outcome.IGNORED)
    found = identify(report, recipients)
    if isinstance(found, Outcome):
        log.info("bounce %s: %s", found, report.summary)
        return Intake(found, summary=report.summary)
    delivery_id, must_name_member = found
    intake = record_report(delivery_id, report, at, must_name_member=must_name_member)
    log.info(
        "bounce %s: delivery %s %s (%s)",
        intake.outcome,
        delivery_id,
        report.summary,
        report.diagnostic,
    )
    return intake


def identify(report: Report, recipients: Sequence[str]) -> tuple[int, bool] | Outcome:
    """The delivery id the report is about, and whether it was found by Message-ID only (so
    the report must name the member's address); or ``FORGED`` / ``UNIDENTIFIED``."""
    key = bounce_key()
    for candidates in (recipients, report.senders):
        verps = [v for v in (read_verp(c) for c in candidates) if v is not None]
        if verps:
            verp = verps[0]
            return (verp.delivery_id, False) if genuine(verp, key) else Outcome.FORGED
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rsplit("@", 1)[-1].lower()
    for message_id in report.message_ids:
        match = _DELIVERY_MESSAGE_ID.fullmatch(message_id.strip())
        if match and match.group(2).lower() == domain:
            return int(match.group(1)), True
    return Outcome.UNIDENTIFIED


def record_report(
    delivery_id: int, report: Report, at: datetime, *, must_name_member: bool = False
) -> Intake:
    """Record ``report`` about email delivery ``delivery_id``: the bounce row, the delivery's
    reason, and the suppression it calls for. ``UNIDENTIFIED`` when there is no such email
    delivery (or, with ``must_name_member``, the report does not name its member's address);
    ``REPEAT`` when this kind of report about it was already recorded."""
    delivery = db.session.get(Delivery, delivery_id)
    member = db.session.get(Member, delivery.member_id) if delivery is not None else None
    if delivery is None or member is None or delivery.channel != Channel.EMAIL:
        return Intake(Outcome.UNIDENTIFIED, summary=report.summary)
    if must_name_member and member.email_key not in {email_key(r) for r in report.recipients}:
        return Intake(Outcome.UNIDENTIFIED, summary=report.summary)
    before = set(db.session.scalars(select(Bounce.kind).where(Bounce.delivery_id == delivery_id)))
    insert = postgresql.insert(Bounce) if db.dialect == "postgresql" else sqlite.insert(Bounce)
    added = db.session.scalar(
        insert.values(
            delivery_id=delivery_id,
            kind=str(report.kind),
            address_key=member.email_key,
            summary=report.summary,
            at=at,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id", "kind"])
        .returning(Bounce.id)
    )
    if added is None:
        return Intake(Outcome.REPEAT, delivery_id, report.summary)
    if all(rank(report.kind) > rank(Kind(kind)) for kind in before):
        delivery.bounced_at, delivery.bounce = at, report.summary
    if _suppresses(report.kind, member.email_key, at):
        record_suppression(member.email, _SUPPRESSION[report.kind], at)
    db.session.flush()
    return Intake(Outcome(str(report.kind)), delivery_id, report.summary)


def _suppresses(kind: Kind, address_key: str, at: datetime) -> bool:
    if kind is Kind.COMPLAINT:
        return True  # the strongest reason replaces a bounce
    if is_suppressed(address_key):
        return False
    if kind is Kind.HARD:
        return True
    soft = db.session.scalar(
        select(func.count(Bounce.id)).where(
            Bounce.address_key == address_key,
            Bounce.kind == str(Kind.SOFT),
            Bounce.at > at - SOFT_WINDOW,
        )
    )
    return int(soft or 0) >= int(current_app.config["NOTIFY_SOFT_BOUNCE_LIMIT"])
