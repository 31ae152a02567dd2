"""A mobile number on the permissions page: type it, receive a code by text, type the code
back; or remove the number. See :mod:`app.consent.phones` for the rules and limits."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock
from app.consent import phones, texts
from app.consent.errors import PhoneError
from app.consent.views.forms import ButtonForm, PhoneCodeForm, PhoneForm
from app.consent.views.permissions_page import current_member, page_context
from app.extensions import db, limiter

# Beyond the limits on codes per number, member and client kept in the database: how often a
# member, and a client, may ask for codes or type one (a code allows five tries of its own).
PHONE_LIMIT = "20 per hour"
PHONE_CLIENT_LIMIT = "40 per hour"


def _member_key() -> str:
    return f"member:{current_member().id}"


def _to_section() -> Response:
    return redirect(url_for("consent.permissions_page", _anchor="sms"))


def _again(**forms: object) -> tuple[str, int]:
    return render_template(
        "consent/permissions.html", **page_context(current_member(), **forms)
    ), 400


@login_required
@limiter.limit(PHONE_LIMIT, key_func=_member_key, methods=["POST"])
@limiter.limit(PHONE_CLIENT_LIMIT, scope="phone-client", methods=["POST"])
def add_number() -> Response | tuple[str, int]:
    member = current_member()
    form = PhoneForm(prefix="phone")
    if not form.validate_on_submit():
        return _again(phone_form=form)
    if not texts.configured():
        form.number.errors.append("This site does not send texts yet.")
        return _again(phone_form=form)
    try:
        number = phones.parse_number(form.number.data or "", phones.default_region())
        message = phones.request_code(
            member.id, number, phones.client_key(request.remote_addr or ""), clock.now()
        )
    except PhoneError as exc:
        db.session.rollback()
        form.number.errors.append(str(exc))
        return _again(phone_form=form)
    db.session.commit()
    state = texts.send_now(message)
    if state == texts.SENT:
        flash(f"We texted a code to {phones.shown(number)}. Type it below.", "success")
    else:
        flash(
            f"We could not text {phones.shown(number)} just now; the code goes as soon as we "
            "can. Type it below when it arrives.",
            "error",
        )
    return _to_section()


@login_required
@limiter.limit(PHONE_LIMIT, key_func=_member_key, methods=["POST"])
@limiter.limit(PHONE_CLIENT_LIMIT, scope="phone-client", methods=["POST"])
def verify_number() -> Response | tuple[str, int]:
    member = current_member()
    form = PhoneCodeForm(prefix="code")
    if not form.validate_on_submit():
        return _again(code_form=form)
    try:
        number = phones.prove(member.id, form.code.data or "", clock.now())
    except PhoneError as exc:
        db.session.commit()  # the wrong try counts
        form.code.errors.append(str(exc))
        return _again(code_form=form)
    db.session.commit()
    flash(
        f"{phones.shown(number.number)} is your number here. Say yes below to what may reach "
        "you by text.",
        "success",
    )
    return _to_section()


@login_required
def remove_number() -> Response:
    if ButtonForm().validate_on_submit() and phones.remove_number(current_member().id):
        db.session.commit()
        flash("Your number is removed: no more texts from us.", "success")
    return _to_section()
