"""The member's record: consent history, the data export and the deletion of the account after
re-authentication. The receipts of the history are in :mod:`app.consent.views.receipts`."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import flash, redirect, render_template, session, url_for
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from app import clock, signing
from app.accounts import members
from app.accounts.errors import WrongPassword
from app.accounts.forms import ConfirmForm
from app.accounts.models import Member
from app.accounts.privacy import delete_member, export_member
from app.consent.ledger import consents
from app.consent.mails import send_deletion_link
from app.consent.scopes import all_scopes
from app.consent.views.forms import DeleteAccountForm
from app.consent.views.permissions_page import current_member
from app.consent.words import channel_words, source_words
from app.extensions import db, limiter
from app.mail.message import MailError
from app.web.errors import render_error

DELETE_PURPOSE = "consent.delete"
DELETE_LINK_LIFETIME = timedelta(minutes=30)
DELETE_LIMIT = "5 per minute; 20 per hour"


def _member_key() -> str:
    return f"member:{current_member().id}"


@login_required
def history() -> str:
    return render_template(
        "consent/history.html",
        events=consents.history(current_member().id),
        scopes=all_scopes(),
        source_words=source_words,
        channel_words=channel_words,
    )


def _json_download(data: object, filename: str) -> Response:
    response = Response(
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
def export() -> Response:
    """Everything held about the member, as one JSON file."""
    now = clock.now()
    data = export_member(current_member(), now)
    return _json_download(data, f"pullfirst-export-{now:%Y%m%d}.json")


# --- deletion ---------------------------------------------------------------------------------


def _delete(member: Member) -> Response:
    """Delete ``member`` (pseudonymising the ledger), sign out, and say so."""
    delete_member(member, clock.now())
    db.session.commit()
    logout_user()
    session.clear()
    flash(
        "Your account is deleted. The record of your consents is kept without any link to you.",
        "success",
    )
    return redirect(url_for("site.home"))


@login_required
@limiter.limit(DELETE_LIMIT, key_func=_member_key, methods=["POST"])
def delete_account() -> Response | str | tuple[str, int]:
    """Re-authenticate, then delete: with the password, or by a link mailed to the address
    for members without one."""
    member = current_member()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not member.has_password:
            return _mail_deletion_link(member)
        try:
            if not form.password.data:
                raise WrongPassword("Enter your password.")
            members.require_password(member, form.password.data)
        except WrongPassword as exc:
            form.password.errors.append(str(exc))
        else:
            return _delete(member)
    status = 400 if form.is_submitted() else 200
    return render_template("consent/delete.html", form=form), status


def _mail_deletion_link(member: Member) -> Response:
    token = signing.sign(
        DELETE_PURPOSE, {"m": member.id, "o": member.email_key}, DELETE_LINK_LIFETIME
    )
    try:
        send_deletion_link(member, token, int(DELETE_LINK_LIFETIME.total_seconds() // 60))
    except MailError:
        flash("We could not send the email just now. Please try again in a few minutes.", "error")
    else:
        flash(
            f"We sent a link to {member.email}. Open it within 30 minutes to delete your account.",
            "success",
        )
    return redirect(url_for("consent.delete_account"))


def delete_by_link(token: str) -> Response | str | tuple[str, int]:
    try:
        payload = signing.unsign(DELETE_PURPOSE, token)
    except signing.TokenError as exc:
        return render_error(
            400,
            "This link cannot be used: it is "
            f"{'out of date' if exc.kind == 'expired' else 'not valid'}. "
            "Ask for a new one from your permissions page.",
        )
    member = members.get_member(int(payload.get("m", 0) or 0))
    if member is None or not member.is_active or member.email_key != payload.get("o"):
        return render_error(400, "This link cannot be used any more.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("consent/delete_confirm.html", form=form, member=member)
    return _delete(member)
