"""Every route of the sms area, registered on its blueprint in one place: the URL, the view
that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.sms import views


def blueprint() -> Blueprint:
    bp = Blueprint("sms", __name__)
    bp.add_url_rule("/sms/inbound", view_func=views.inbound, methods=["GET"])
    bp.add_url_rule("/sms/report", view_func=views.report, methods=["GET"])
    return bp
