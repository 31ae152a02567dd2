"""Telegram on the permissions page: link this account to a chat with the site's bot, or unlink.

Linking is a POST (it issues a one-time token) answered with a page holding the link
``https://t.me/<bot>?start=<token>``: following it opens the chat with the bot in Telegram, and
the bot links the chat when the member presses Start (see :mod:`app.consent.telegram`). A page,
not a redirect: the site's Content-Security-Policy lets forms post only to the site itself.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_login import login_required
from werkzeug.wrappers import Response

from app import clock
from app.consent import telegram
from app.consent.views.forms import ButtonForm
from app.consent.views.permissions_page import current_member
from app.extensions import db, limiter

LINK_LIMIT = "20 per hour"


def bot_on() -> bool:
    return bool(current_app.config["TELEGRAM_BOT_TOKEN"])


def deep_link(token: str) -> str:
    bot = current_app.config["TELEGRAM_BOT_USERNAME"]
    return f"https://t.me/{quote(bot)}?start={quote(token)}"


def _member_key() -> str:
    return f"member:{current_member().id}"


def _to_section() -> Response:
    return redirect(url_for("consent.permissions_page", _anchor="telegram"))


@login_required
@limiter.limit(LINK_LIMIT, key_func=_member_key, methods=["POST"])
def link_telegram() -> Response:
    if not bot_on():
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    token = telegram.new_link_token(current_member().id, clock.now())
    db.session.commit()
    page = render_template(
        "consent/telegram_link.html",
        link=deep_link(token),
        bot=current_app.config["TELEGRAM_BOT_USERNAME"],
        minutes=int(telegram.LINK_LIFETIME.total_seconds() // 60),
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the one-time link is on it
    return response


@login_required
def unlink_telegram() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    if telegram.unlink(current_member().id):
        db.session.commit()
        flash("Telegram is unlinked: nothing more reaches that chat from us.", "success")
    return _to_section()
