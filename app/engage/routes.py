"""Every route of the engage area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.engage import views


def blueprint() -> Blueprint:
    bp = Blueprint("engage", __name__)
    bp.add_url_rule("/surveys/", view_func=views.surveys, methods=["GET"])
    bp.add_url_rule("/surveys/<slug>/", view_func=views.survey, methods=["GET", "POST"])
    bp.add_url_rule("/surveys/<slug>/thanks", view_func=views.survey_thanks, methods=["GET"])
    bp.add_url_rule(
        "/surveys/<slug>/correct", view_func=views.correct_answers, methods=["GET", "POST"]
    )
    bp.add_url_rule("/redeem", view_func=views.redeem_code, methods=["GET", "POST"])
    bp.add_url_rule("/redeem/<batch>", view_func=views.code_redeemed, methods=["GET"])
    bp.add_url_rule("/r/<code>", view_func=views.referral_landing, methods=["GET"])
    return bp
