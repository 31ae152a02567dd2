"""What Kannel calls: ``/sms/inbound`` (its ``sms-service`` passes every text a phone sent us)
and ``/sms/report`` (the delivery reports of the texts we sent). Both carry
``SMS_INBOUND_SECRET`` in their ``secret`` parameter; without that setting they do not exist.
Both are GET, as Kannel's ``get-url`` and ``dlr-url`` call them, and answer an empty 200 body:
answers to a text go out through ``sendsms`` once what the text did is committed.
"""

from __future__ import annotations

import hmac

from flask import abort, current_app, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import clock
from app.consent import phones, texts
from app.consent.terms import Channel
from app.database.core import writes
from app.extensions import db
from app.notify.models import Delivery
from app.notify.states import UNDELIVERED, DeliveryState
from app.sms.keywords import handle_text


def _check_secret() -> None:
    expected = current_app.config["SMS_INBOUND_SECRET"]
    if not expected:
        abort(404)
    given = request.args.get("secret", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403)


def _empty() -> Response:
    return Response("", 200, mimetype="text/plain")


@writes
def inbound() -> Response:
    _check_secret()
    sender, text = request.args.get("from", ""), request.args.get("text")
    if not sender or text is None:
        abort(400, "from and text are required")
    handled = handle_text(sender, text, clock.now(), request.args.get("id"))
    if handled is None:
        abort(400, "from is not a phone number")
    db.session.commit()
    for answer in handled.answers:
        texts.send_now(answer)
    return _empty()


@writes
def report() -> Response:
    _check_secret()
    try:
        status = int(request.args.get("status", ""))
        message = request.args.get("message")
        delivery = request.args.get("delivery")
        message_id = int(message) if message else None
        delivery_id = int(delivery) if delivery else None
    except ValueError:
        abort(400, "status, message and delivery are numbers")
    now = clock.now()
    if message_id is not None:
        texts.record_report(message_id, status, now)
    elif delivery_id is not None:
        record_delivery_report(delivery_id, status)
    else:
        abort(400, "message or delivery is required")
    db.session.commit()
    return _empty()


def record_delivery_report(delivery_id: int, status: int) -> None:
    """A campaign text reached the phone (delivered), or did not (the delivery fails; a
    refusal by the SMS centre suppresses the number). The caller commits.

    The report can come while the worker still records the send: on PostgreSQL the row lock
    waits for it; on SQLite the row is still ``leased`` then, and the worker's record keeps
    what the report said (see :data:`app.notify.worker._SENT`)."""
    found = db.session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update(of=Delivery)
    ).first()
    if found is None or found.channel != Channel.SMS:
        return
    if found.state not in (DeliveryState.SENT, DeliveryState.LEASED):
        return
    now = clock.now()
    if status & texts.DELIVERED_TO_PHONE:
        found.delivered_at = found.delivered_at or now
    elif status & (texts.UNDELIVERED | texts.SMSC_REJECTED):
        found.reason = UNDELIVERED
        found.last_error = f"the SMS centre reported {status}: not delivered"
        if found.state == DeliveryState.SENT:
            found.state, found.finished_at = DeliveryState.DEAD, now
        if status & texts.SMSC_REJECTED:
            number = phones.number_of(found.member_id)
            if number is not None:
                phones.mark_failed(number.number, now)
