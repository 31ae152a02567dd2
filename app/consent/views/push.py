"""Browser notifications: the service worker, and the subscriptions browsers post.

The page script (``static/push.js``) asks the browser for notifications only after the member
pressed yes on a scope's sentence for browser notifications, then posts the browser's
subscription here as JSON with the CSRF token in ``X-CSRFToken``. The service worker is served
from the site's root so that it may show notifications for every page of the site.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock
from app.consent import push
from app.consent.errors import PushSubscriptionError
from app.consent.views.forms import ButtonForm
from app.consent.views.permissions_page import current_member
from app.extensions import db, limiter

WORKER = Path(__file__).resolve().parents[2] / "static" / "push-worker.js"
MAX_BODY = 4096


def _member_key() -> str:
    return f"member:{current_member().id}"


def push_worker() -> Response:
    response = Response(WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@login_required
@limiter.limit("30 per hour", key_func=_member_key, methods=["POST"])
def push_subscribe() -> tuple[Response, int]:
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="The subscription is too large."), 413
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="Send the browser's subscription as a JSON object."), 400
    try:
        subscription = push.read_subscription(
            data, allow_loopback=bool(current_app.config["WEBHOOK_ALLOW_LOOPBACK"])
        )
    except PushSubscriptionError as exc:
        return jsonify(error=str(exc)), 400
    row = push.subscribe(
        current_member().id, subscription, request.user_agent.string or "", clock.now()
    )
    db.session.commit()
    return jsonify(id=row.id), 201


@login_required
def push_remove(subscription_id: int) -> Response:
    if ButtonForm().validate_on_submit() and push.remove(current_member().id, subscription_id):
        db.session.commit()
        flash("That browser will get no more notifications from us.", "success")
    return redirect(url_for("consent.permissions_page", _anchor="push"))
