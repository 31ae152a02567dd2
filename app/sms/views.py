"""What Kannel calls: ``/sms/inbound`` (its ``sms-service`` passes every text a phone sent us)
and ``/sms/report`` (the delivery reports of the texts we sent). Both carry
``SMS_INBOUND_SECRET`` in their ``secret`` parameter; without that setting they do not exist.
Both are GET, as Kannel's ``get-url`` and ``dlr-url`` call them, and answer an empty 200 body:
answers to a text go out through ``sendsms`` once what the text did is committed.
"""

from __future__ import annotations

import hmac

from flask import abort, current_app, request
from werkzeug.wrappers import Response

from app import clock
from app.consent import texts
from app.database.core import writes
from app.extensions import db
from app.sms.keywords import handle_text
from app.sms.reports import record_delivery_report


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
