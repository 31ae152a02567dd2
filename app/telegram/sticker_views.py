"""*Add to Telegram* on a pack's page: the button (drawn into the stickers area's page through
its pack actions) and ``POST /stickers/<slug>/telegram``, which has the bot make or update the
member's sticker set and answers with its ``t.me/addstickers/…`` link.

These pages are members' forms, so they live on their own blueprint: the webhook's blueprint
is exempt from CSRF and rate limits, and this one is not.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response

from app import clock
from app.consent.telegram import chat_of
from app.extensions import db, limiter
from app.rewards.rules import PACK_SLUG
from app.stickers.library import ListedPack
from app.telegram.bot import bot
from app.telegram.errors import BotOff, NotEntitled, StickerSetRefused
from app.telegram.models import TelegramStickerSet
from app.telegram.stickersets import ADD_STICKERS_URL, SetChange, add_pack_to_telegram

STICKER_SET_LIMIT = "10 per hour"

DONE = {
    SetChange.CREATED: "Your pack is in Telegram",
    SetChange.UPDATED: "Your pack is up to date in Telegram",
    SetChange.UNCHANGED: "Your pack is already in Telegram",
}


class AddPackForm(FlaskForm):
    """Only the CSRF token."""


def _member_key() -> str:
    return f"member:{current_user.id}"


def telegram_pack_action(pack: ListedPack, member_id: int) -> Markup | None:
    """The *Add to Telegram* part of the page of a pack the member holds: the button for a
    linked chat, a pointer to *Link Telegram* otherwise; nothing while the bot is off."""
    if not current_app.config["TELEGRAM_BOT_TOKEN"]:
        return None
    record = db.session.get(TelegramStickerSet, (member_id, pack.slug))
    return Markup(  # noqa: S704 - rendered by an autoescaping template
        render_template(
            "telegram/_pack_action.html",
            pack=pack,
            chat=chat_of(member_id),
            bot=current_app.config["TELEGRAM_BOT_USERNAME"],
            set_url=ADD_STICKERS_URL + record.name if record is not None else None,
            form=AddPackForm(),
        )
    )


@login_required
@limiter.limit(STICKER_SET_LIMIT, key_func=_member_key, methods=["POST"])
def add_to_telegram(slug: str) -> Response:
    """403 for a member who does not hold the pack (Telegram is asked nothing); 404 while the
    bot is off. Otherwise back to the pack's page with the set's link, or why there is none."""
    if not PACK_SLUG.match(slug):
        abort(404)
    if not AddPackForm().validate_on_submit():
        abort(400)
    try:
        api = bot()
    except BotOff:
        abort(404)
    try:
        with api:
            result = add_pack_to_telegram(api, int(current_user.id), slug, clock.now())
    except NotEntitled:
        abort(403)
    except StickerSetRefused as exc:
        flash(str(exc), "error")
    else:
        told = " Our bot sent you the link in Telegram too." if result.told else ""
        flash(f"{DONE[result.change]}: {result.url}.{told}", "success")
    return redirect(url_for("stickers.pack", slug=slug, _anchor="telegram"))
