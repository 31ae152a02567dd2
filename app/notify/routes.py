"""Every route of the notify area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.notify import views


def blueprint() -> Blueprint:
    bp = Blueprint("notify", __name__)
    bp.add_url_rule("/inbox", view_func=views.inbox_page, methods=["GET"])
    bp.add_url_rule("/notices/<slug>", view_func=views.notice, methods=["GET"])
    bp.add_url_rule("/inbox/<id:delivery_id>", view_func=views.message, methods=["GET"])
    bp.add_url_rule("/inbox/tests/<id:test_id>", view_func=views.test_message, methods=["GET"])
    bp.add_url_rule("/inbox/<id:delivery_id>/useful", view_func=views.useful, methods=["POST"])
    bp.add_url_rule(
        "/inbox/<id:delivery_id>/not-for-me", view_func=views.not_for_me, methods=["POST"]
    )
    bp.add_url_rule("/inbox/<id:delivery_id>/stop", view_func=views.stop, methods=["POST"])
    bp.add_url_rule("/inbox/<id:delivery_id>/reply", view_func=views.reply, methods=["POST"])
    bp.add_url_rule("/u/<token>", view_func=views.unsubscribe_page, methods=["GET"])
    bp.add_url_rule("/u/<token>", view_func=views.unsubscribe_one_click, methods=["POST"])
    bp.add_url_rule("/t/<token>", view_func=views.click, methods=["GET"])
    bp.add_url_rule("/s/<code>", view_func=views.short_link, methods=["GET"])
    bp.add_url_rule("/o/<token>.gif", view_func=views.opened, methods=["GET"])
    return bp
