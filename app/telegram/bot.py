"""The Bot API client of the site's bot, made from the settings.

A client holds a keep-alive connection: use it in a ``with`` block (a request, a poll loop)
so the connection is closed when the work is done."""

from __future__ import annotations

from flask import current_app

from app.outbound.botapi import BotApi
from app.telegram.errors import BotOff


def bot() -> BotApi:
    """A client for ``TELEGRAM_BOT_TOKEN`` at ``TELEGRAM_API_BASE``. Raises :class:`BotOff`
    when no token is set."""
    token = current_app.config["TELEGRAM_BOT_TOKEN"]
    if not token:
        raise BotOff("Telegram is off: set TELEGRAM_BOT_TOKEN to the token @BotFather gave you.")
    return BotApi(token, current_app.config["TELEGRAM_API_BASE"])
