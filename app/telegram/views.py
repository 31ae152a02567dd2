"""``POST /telegram/webhook``: Telegram posts each update here when the webhook is set
(``flask telegram webhook set``). Only a request carrying ``TELEGRAM_WEBHOOK_SECRET`` in
``X-Telegram-Bot-Api-Secret-Token`` is read; without that setting the address does not exist.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from werkzeug.wrappers import Response

from app import clock
from app.outbound.botapi import WEBHOOK_SECRET_HEADER, secret_matches
from app.telegram.bot import bot
from app.telegram.chat import handle_update, speak

MAX_UPDATE_BYTES = 256 * 1024


def webhook() -> Response:
    expected = current_app.config["TELEGRAM_WEBHOOK_SECRET"]
    if not expected or not current_app.config["TELEGRAM_BOT_TOKEN"]:
        abort(404)
    if not secret_matches(request.headers.get(WEBHOOK_SECRET_HEADER), expected):
        abort(403)
    if (request.content_length or 0) > MAX_UPDATE_BYTES:
        abort(413)
    update = request.get_json(silent=True)
    if not isinstance(update, dict):
        abort(400)
    turn = handle_update(update, clock.now())
    with bot() as api:
        speak(api, turn)
    return jsonify({})
