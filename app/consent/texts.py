"""The text messages the product sends itself: system messages by SMS.

A one-time code, the confirmation after a yes, the answer to a keyword (STOP, START, HELP) and
the team's answer to a member's text are each sent to one number because of what its owner
just did. Each is written to the SMS log (``sms_messages``) as ``queued`` in the transaction
that caused it, and handed to Kannel just after that commits (:func:`send_now`); one that
could not be handed over stays queued and goes with the next :func:`flush` (the notifier
worker runs it, and so does ``flask sms flush``), so none is lost while the gateway is down.
A code that could not leave within its lifetime is dropped instead (``expired``): a late code
is of no use.

Kannel reports what became of each text to the delivery-report URL of :func:`report_url`;
:func:`record_report` moves the text to ``delivered`` or ``failed``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import clock
from app.consent.models import PhoneNumber, SmsMessage
from app.consent.scopes import Scope
from app.consent.terms import Channel
from app.extensions import db
from app.outbound.kannel import SmsGateway, SmsGatewayDown, SmsRejected
from app.web.urls import external_url

log = logging.getLogger("pullfirst.sms")

QUEUED, SENT, DELIVERED, FAILED, EXPIRED, RECEIVED = (
    "queued",
    "sent",
    "delivered",
    "failed",
    "expired",
    "received",
)
MAX_ATTEMPTS = 8
KEPT_FOR = {"code": timedelta(minutes=10)}  # kinds worth sending only so long after
# Kannel's delivery-report values (%d): delivered to the phone, not delivered, queued in the
# SMS centre, accepted by the SMS centre, refused by the SMS centre.
DELIVERED_TO_PHONE, UNDELIVERED, BUFFERED, SMSC_ACCEPTED, SMSC_REJECTED = 1, 2, 4, 8, 16


def configured() -> bool:
    return bool(current_app.config["SMS_SENDSMS_URL"])


def gateway() -> SmsGateway | None:
    """A client of the configured Kannel smsbox, or None when SMS is off."""
    config = current_app.config
    if not config["SMS_SENDSMS_URL"]:
        return None
    return SmsGateway(
        config["SMS_SENDSMS_URL"],
        config["SMS_USERNAME"],
        config["SMS_PASSWORD"] or "",
        config["SMS_SENDER"],
    )


def program() -> str:
    return str(current_app.config["SMS_PROGRAM"])


def report_url(**about: int) -> str | None:
    """Where Kannel reports on a text (``message=<id>`` for a system text, ``delivery=<id>``
    for a campaign's), with its ``%d`` left for Kannel; None without an inbound secret."""
    secret = current_app.config["SMS_INBOUND_SECRET"]
    if not secret:
        return None
    url = external_url("sms.report", secret=secret, status="STATUS", **about)
    return url.replace("status=STATUS", "status=%d")


def _log(
    direction: str,
    number: str,
    member_id: int | None,
    kind: str,
    text: str,
    state: str,
    now: datetime,
    keyword: str | None,
    gateway_id: str | None = None,
) -> SmsMessage:
    message = SmsMessage(
        direction=direction,
        number=number,
        member_id=member_id,
        kind=kind,
        keyword=keyword,
        text=text,
        state=state,
        attempts=0,
        gateway_id=gateway_id,
        at=now,
        updated_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def queue(
    number: str,
    member_id: int | None,
    kind: str,
    text: str,
    now: datetime,
    keyword: str | None = None,
) -> SmsMessage:
    """Log a system text to ``number`` as queued. The caller commits, then calls
    :func:`send_now`."""
    return _log("out", number, member_id, kind, text, QUEUED, now, keyword)


def confirmation_text(scope: Scope) -> str:
    """The first text after a yes by text: exactly the words the member said yes to."""
    return (
        f"{program()}: you said yes to {scope.title} by text, to these words: "
        f"\u201c{scope.wording_for(Channel.SMS)}\u201d"
    )


def seen_inbound(gateway_id: str) -> SmsMessage | None:
    """The inbound text Kannel already passed on with this id, if any."""
    found: SmsMessage | None = db.session.scalar(
        select(SmsMessage).where(SmsMessage.gateway_id == gateway_id)
    )
    return found


def queue_confirmation(member_id: int, scope: Scope, now: datetime) -> SmsMessage | None:
    """Queue the confirmation of a yes by text to the member's number (None without one)."""
    number = db.session.get(PhoneNumber, member_id)
    if number is None:
        return None
    return queue(number.number, member_id, "confirmation", confirmation_text(scope), now)


def log_inbound(
    number: str,
    member_id: int | None,
    kind: str,
    text: str,
    now: datetime,
    keyword: str | None,
    gateway_id: str | None = None,
) -> SmsMessage:
    return _log("in", number, member_id, kind, text, RECEIVED, now, keyword, gateway_id)


def _hand_over(client: SmsGateway | None, message: SmsMessage, now: datetime) -> None:
    kept = KEPT_FOR.get(message.kind)
    if kept is not None and now - message.at > kept:
        message.state, message.error, message.updated_at = EXPIRED, "too late to be of use", now
        return
    if client is None:
        message.error, message.updated_at = "SMS is off: SMS_SENDSMS_URL is not set", now
        return
    message.attempts += 1
    try:
        client.send(message.number, message.text, dlr_url=report_url(message=message.id))
    except SmsGatewayDown as exc:
        message.error, message.updated_at = str(exc)[:300], now
        if message.attempts >= MAX_ATTEMPTS:
            message.state = FAILED
        log.warning("sms: text %s not handed over: %s", message.id, exc)
        return
    except SmsRejected as exc:
        message.state, message.error, message.updated_at = FAILED, str(exc)[:300], now
        return
    message.state, message.error, message.updated_at = SENT, None, now


def send_now(message: SmsMessage | int) -> str:
    """Hand the queued text to Kannel, and commit its new state; returns that state."""
    if isinstance(message, int):
        found = db.session.get(SmsMessage, message)
        if found is None:
            return "gone"
        message = found
    if message.state != QUEUED:
        return message.state
    client = gateway()
    try:
        _hand_over(client, message, clock.now())
    finally:
        if client is not None:
            client.close()
    db.session.commit()
    return message.state


def flush(now: datetime, limit: int = 200) -> int:
    """Hand over the system texts still queued, oldest first; returns how many left."""
    waiting = list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.direction == "out", SmsMessage.state == QUEUED)
            .order_by(SmsMessage.id)
            .limit(limit)
        )
    )
    if not waiting:
        return 0
    client = gateway()
    sent = 0
    try:
        for message in waiting:
            _hand_over(client, message, now)
            db.session.commit()
            sent += message.state == SENT
    finally:
        if client is not None:
            client.close()
    return sent


def record_report(message_id: int, status: int, now: datetime) -> bool:
    """Kannel's report ``status`` on a system text. The caller commits."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.direction != "out":
        return False
    if status & DELIVERED_TO_PHONE:
        message.state = DELIVERED
    elif status & (UNDELIVERED | SMSC_REJECTED):
        message.state, message.error = FAILED, f"the SMS centre reported {status}"
    message.updated_at = now
    return True
