"""Consent receipts: the member's signed receipt of one ledger event, in HTML and JSON and by
mail, and the public keys that check every receipt, published for anyone.

Each view issues a new copy of the receipt, signed on its own (see
:mod:`app.consent.ledger.receipts`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock
from app.consent.ledger import consents
from app.consent.ledger.keys import published_keys, signing_key
from app.consent.ledger.receipts import KEYS_PATH, receipt_data, receipt_file, sign_receipt
from app.consent.mails import send_receipt
from app.consent.views.forms import ButtonForm
from app.consent.views.permissions_page import current_member
from app.extensions import limiter
from app.mail.message import MailError
from app.site.wiring import site_settings

# Each press sends a mail: enough to resend a lost one, not enough to flood a mailbox.
MAIL_LIMIT = "5 per hour"
# Keys change rarely and never silently (an old key stays published while receipts use it).
KEYS_MAX_AGE = 3600


def _member_key() -> str:
    return f"member:{current_member().id}"


def _signed_receipt(receipt: str) -> dict[str, Any]:
    """A newly issued, signed copy of the signed-in member's receipt; 404 for any receipt that
    is not theirs."""
    member = current_member()
    event = consents.find_receipt(member.id, receipt)
    if event is None:
        abort(404)
    settings = site_settings()
    data = receipt_data(event, member, settings.title, settings.postal_address, clock.now())
    return sign_receipt(data, signing_key())


@login_required
def receipt_page(receipt: str) -> str:
    data = _signed_receipt(receipt)
    return render_template(
        "consent/receipt.html",
        receipt=data,
        at=datetime.fromisoformat(data["consent"]["at"]),
        issued_at=datetime.fromisoformat(data["issued_at"]),
        signed_json=receipt_file(data),
        keys_url=KEYS_PATH,
        form=ButtonForm(),
        verified=current_member().is_verified,
    )


@login_required
def receipt_json(receipt: str) -> Response:
    response = Response(receipt_file(_signed_receipt(receipt)), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{receipt}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
@limiter.limit(MAIL_LIMIT, key_func=_member_key, methods=["POST"])
def mail_receipt(receipt: str) -> Response:
    """Mail a signed copy of the receipt to the member's own confirmed address (a system
    message); 404 for a receipt that is not theirs."""
    data = _signed_receipt(receipt)
    member = current_member()
    back = redirect(url_for("consent.receipt_page", receipt=data["receipt"]))
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not member.is_verified:
        flash(
            "Confirm your email address first: we send receipts only to a confirmed address.",
            "error",
        )
        return back
    try:
        send_receipt(member, data)
    except MailError:
        flash("We could not send the email just now. Please try again in a few minutes.", "error")
    else:
        flash(f"We sent this receipt to {member.email}, with the signed JSON attached.", "success")
    return back


def receipt_keys() -> Response:
    """The public keys that check this site's receipts, for anyone: no session, cacheable."""
    body = json.dumps(published_keys([signing_key().public_key()]), indent=2, sort_keys=True) + "\n"
    response = Response(body, mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = KEYS_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)
