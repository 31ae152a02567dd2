"""Every route of the telegram area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.telegram import sticker_views, views


def blueprint() -> Blueprint:
    bp = Blueprint("telegram", __name__)
    bp.add_url_rule("/telegram/webhook", view_func=views.webhook, methods=["POST"])
    return bp


def sticker_blueprint() -> Blueprint:
    """Members' forms (CSRF and rate limits apply, unlike on the webhook's blueprint)."""
    bp = Blueprint("telegram_stickers", __name__)
    bp.add_url_rule(
        "/stickers/<slug>/telegram", view_func=sticker_views.add_to_telegram, methods=["POST"]
    )
    return bp
