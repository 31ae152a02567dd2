"""Binds the Telegram bot to an app: the webhook, ``flask telegram …``, and the client closed
with the app's workers."""

from __future__ import annotations

from flask import Flask

from app.accounts.privacy import register_exporter
from app.extensions import csrf, limiter
from app.stickers.actions import register_pack_action
from app.telegram.cli import telegram_cli
from app.telegram.routes import blueprint, sticker_blueprint
from app.telegram.sticker_views import telegram_pack_action
from app.telegram.stickersets import sticker_sets_of


def init_app(app: Flask) -> None:
    telegram = blueprint()
    csrf.exempt(telegram)  # Telegram's posts carry the webhook secret, not a form token
    limiter.exempt(telegram)  # one sender, Telegram, authenticated by that secret
    app.register_blueprint(telegram)
    app.cli.add_command(telegram_cli)
    app.register_blueprint(sticker_blueprint())
    register_pack_action(app, "telegram", telegram_pack_action)
    register_exporter(app, "telegram_sticker_sets", sticker_sets_of)
