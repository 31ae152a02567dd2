"""Every route of the consent area, registered on its blueprint in one place: the URL, the
view that answers it and its methods. ``init_app`` registers :func:`blueprint` on the app."""

from __future__ import annotations

from flask import Blueprint

from app.consent.ledger.receipts import KEYS_PATH
from app.consent.views import (
    choices,
    permissions_page,
    phone,
    privacy,
    push,
    receipts,
    subscribe,
    telegram,
    webhooks,
    why,
)


def blueprint() -> Blueprint:
    bp = Blueprint("consent", __name__)
    bp.add_url_rule("/me/permissions", view_func=permissions_page.permissions_page, methods=["GET"])
    bp.add_url_rule(
        "/me/permissions/<scope>/<channel:channel>/yes",
        view_func=permissions_page.say_yes,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/me/permissions/<scope>/<channel:channel>/stop",
        view_func=permissions_page.stop,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/me/permissions/<scope>/choices", view_func=choices.save_choices, methods=["POST"]
    )
    bp.add_url_rule(
        "/me/permissions/<scope>/resume", view_func=permissions_page.resume, methods=["POST"]
    )
    bp.add_url_rule("/me/permissions/pause", view_func=permissions_page.pause, methods=["POST"])
    bp.add_url_rule("/me/permissions/unpause", view_func=permissions_page.unpause, methods=["POST"])
    bp.add_url_rule(
        "/me/permissions/quiet-hours", view_func=permissions_page.quiet_hours, methods=["POST"]
    )
    bp.add_url_rule("/me/permissions/history", view_func=privacy.history, methods=["GET"])
    bp.add_url_rule("/me/permissions/export", view_func=privacy.export, methods=["GET"])
    bp.add_url_rule(
        "/me/permissions/delete", view_func=privacy.delete_account, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/me/permissions/delete/<token>", view_func=privacy.delete_by_link, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        "/me/permissions/receipts/<receipt>", view_func=receipts.receipt_page, methods=["GET"]
    )
    bp.add_url_rule(
        "/me/permissions/receipts/<receipt>.json", view_func=receipts.receipt_json, methods=["GET"]
    )
    bp.add_url_rule(
        "/me/permissions/receipts/<receipt>/mail", view_func=receipts.mail_receipt, methods=["POST"]
    )
    bp.add_url_rule(KEYS_PATH, view_func=receipts.receipt_keys, methods=["GET"])
    bp.add_url_rule("/subscribe/<scope>", view_func=subscribe.subscribe, methods=["GET", "POST"])
    bp.add_url_rule(
        "/subscribe/<scope>/sent", view_func=subscribe.subscription_sent, methods=["GET"]
    )
    bp.add_url_rule(
        "/subscriptions/confirm/<token>",
        view_func=subscribe.confirm_subscription,
        methods=["GET", "POST"],
    )
    bp.add_url_rule("/subscribe/<scope>/welcome", view_func=subscribe.subscribed, methods=["GET"])
    bp.add_url_rule("/me/permissions/webhooks", view_func=webhooks.add_webhook, methods=["POST"])
    bp.add_url_rule(
        "/me/permissions/webhooks/<id:endpoint_id>/verify",
        view_func=webhooks.verify_webhook,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/me/permissions/webhooks/<id:endpoint_id>/remove",
        view_func=webhooks.remove_webhook,
        methods=["POST"],
    )
    bp.add_url_rule("/why/<token>", view_func=why.why_page, methods=["GET"])
    bp.add_url_rule("/why/<token>/stop", view_func=why.why_stop, methods=["POST"])
    bp.add_url_rule(
        "/me/permissions/telegram/link", view_func=telegram.link_telegram, methods=["POST"]
    )
    bp.add_url_rule(
        "/me/permissions/telegram/unlink", view_func=telegram.unlink_telegram, methods=["POST"]
    )
    bp.add_url_rule("/me/permissions/sms/number", view_func=phone.add_number, methods=["POST"])
    bp.add_url_rule("/me/permissions/sms/verify", view_func=phone.verify_number, methods=["POST"])
    bp.add_url_rule("/me/permissions/sms/remove", view_func=phone.remove_number, methods=["POST"])
    bp.add_url_rule("/push-worker.js", view_func=push.push_worker, methods=["GET"])
    bp.add_url_rule("/me/push/subscriptions", view_func=push.push_subscribe, methods=["POST"])
    bp.add_url_rule(
        "/me/push/subscriptions/<id:subscription_id>/remove",
        view_func=push.push_remove,
        methods=["POST"],
    )
    return bp
