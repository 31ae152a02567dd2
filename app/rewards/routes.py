"""Every route of the rewards area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.rewards import views


def blueprint() -> Blueprint:
    bp = Blueprint("rewards", __name__)
    bp.add_url_rule("/me/rewards", view_func=views.page, methods=["GET"])
    bp.add_url_rule("/welcome", view_func=views.welcome, methods=["GET"])
    return bp
