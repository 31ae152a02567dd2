"""Every route of the accounts area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.accounts import views


def blueprint() -> Blueprint:
    bp = Blueprint("accounts", __name__)
    bp.add_url_rule("/signup", view_func=views.signup, methods=["GET", "POST"])
    bp.add_url_rule("/check-your-inbox", view_func=views.check_inbox, methods=["GET"])
    bp.add_url_rule("/verify/<token>", view_func=views.verify, methods=["GET"])
    bp.add_url_rule("/verify/<token>/sign-in", view_func=views.verify_sign_in, methods=["POST"])
    bp.add_url_rule("/verify", view_func=views.resend_verification, methods=["POST"])
    bp.add_url_rule("/signin", view_func=views.signin, methods=["GET", "POST"])
    bp.add_url_rule("/signout", view_func=views.signout, methods=["POST"])
    bp.add_url_rule("/signin/link", view_func=views.request_magic_link, methods=["GET", "POST"])
    bp.add_url_rule("/signin/link/<token>", view_func=views.magic_link, methods=["GET", "POST"])
    bp.add_url_rule("/reset", view_func=views.request_reset, methods=["GET", "POST"])
    bp.add_url_rule("/reset/<token>", view_func=views.reset_password, methods=["GET", "POST"])
    bp.add_url_rule("/me/account", view_func=views.account, methods=["GET"])
    bp.add_url_rule("/me/account/profile", view_func=views.update_profile, methods=["POST"])
    bp.add_url_rule("/me/account/password", view_func=views.change_password, methods=["POST"])
    bp.add_url_rule("/me/account/email", view_func=views.change_email, methods=["POST"])
    bp.add_url_rule(
        "/me/account/email/<token>", view_func=views.confirm_email_change, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/me/account/sign-out-everywhere", view_func=views.sign_out_everywhere, methods=["POST"]
    )
    return bp
