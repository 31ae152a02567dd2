"""Webhook endpoints on the permissions page: add, verify with a signed challenge, remove.

No database transaction is held open while we resolve a host name or wait for an endpoint.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock
from app.consent import webhooks
from app.consent.views.forms import ButtonForm, WebhookForm
from app.consent.views.permissions_page import current_member, page_context
from app.extensions import db, limiter
from app.outbound.errors import WebhookError

# Each add or verification makes us call out to the network: keep it to a human pace.
WEBHOOK_LIMIT = "10 per hour"


def _member_key() -> str:
    return f"member:{current_member().id}"


def _allow_loopback() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_LOOPBACK"])


def _to_section() -> Response:
    return redirect(url_for("consent.permissions_page", _anchor="webhooks"))


@login_required
@limiter.limit(WEBHOOK_LIMIT, key_func=_member_key, methods=["POST"])
def add_webhook() -> Response | tuple[str, int]:
    member = current_member()
    member_id = member.id
    form = WebhookForm(prefix="webhook")
    if form.validate_on_submit():
        db.session.rollback()  # resolve the host outside any transaction
        try:
            endpoint = webhooks.add_endpoint(
                member_id, form.url.data, clock.now(), allow_loopback=_allow_loopback()
            )
        except WebhookError as exc:
            db.session.rollback()
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                f"Added {endpoint.url}. Set up its secret, then send the challenge to verify it.",
                "success",
            )
            return _to_section()
    return render_template(
        "consent/permissions.html", **page_context(current_member(), webhook_form=form)
    ), 400


@login_required
@limiter.limit(WEBHOOK_LIMIT, key_func=_member_key, methods=["POST"])
def verify_webhook(endpoint_id: int) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    member_id = current_member().id
    endpoint = webhooks.get_endpoint(member_id, endpoint_id)
    if endpoint is None:
        abort(404)
    challenge = webhooks.prepare_challenge(endpoint)
    db.session.rollback()  # no lock held while the endpoint answers
    try:
        webhooks.send_challenge(challenge, clock.now(), allow_loopback=_allow_loopback())
    except WebhookError as exc:
        flash(f"Not verified: {exc}", "error")
        return _to_section()
    webhooks.mark_verified(member_id, endpoint_id, clock.now())
    db.session.commit()
    flash(f"Verified {challenge.url}: it answered the signed challenge.", "success")
    return _to_section()


@login_required
def remove_webhook(endpoint_id: int) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not webhooks.remove_endpoint(current_member().id, endpoint_id):
        abort(404)
    db.session.commit()
    flash("The endpoint is removed.", "success")
    return _to_section()
