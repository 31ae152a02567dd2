"""Every route of the ops area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.ops import views


def blueprint() -> Blueprint:
    bp = Blueprint("ops", __name__)
    bp.add_url_rule("/healthz", view_func=views.healthz, methods=["GET"])
    bp.add_url_rule("/readyz", view_func=views.readyz, methods=["GET"])
    bp.add_url_rule("/metrics", view_func=views.metrics_page, methods=["GET"])
    return bp
