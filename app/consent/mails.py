"""The messages the consent area sends itself: the confirmation of a subscription, the link
that deletes an account, and a consent receipt the member asked for.

They are system messages: content-neutral (no article, no offer), each to one person because of
what that person just did, sent straight through :mod:`app.mail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template

from app.accounts.models import Member
from app.consent.ledger.receipts import receipt_file
from app.consent.ledger.subscriptions import REQUEST_LIFETIME, confirmation_token
from app.consent.models import SubscriptionRequest
from app.consent.scopes import Scope
from app.mail.message import Attachment, Message
from app.mail.sending import send_message
from app.web.urls import external_url


def send_confirmation(request: SubscriptionRequest, scope: Scope) -> str:
    """Mail the confirmation link for ``request``; returns the Message-ID. Raises
    :class:`~app.mail.message.MailError` when it cannot be sent."""
    url = external_url("consent.confirm_subscription", token=confirmation_token(request))
    subject = f"Confirm your subscription: {scope.title}"
    context = {"scope": scope, "url": url, "days": REQUEST_LIFETIME.days, "subject": subject}
    return send_message(
        Message(
            to=request.email,
            subject=subject,
            text=render_template("mail/consent/confirm.txt", **context),
            html=render_template("mail/consent/confirm.html", **context),
            headers={"Auto-Submitted": "auto-generated"},
        )
    )


def send_deletion_link(member: Member, token: str, minutes: int) -> str:
    """Mail the link that deletes a passwordless member's account."""
    url = external_url("consent.delete_by_link", token=token)
    subject = "Confirm the deletion of your account"
    context = {"member": member, "url": url, "minutes": minutes, "subject": subject}
    return send_message(
        Message(
            to=member.email,
            to_name=member.display_name,
            subject=subject,
            text=render_template("mail/consent/delete.txt", **context),
            html=render_template("mail/consent/delete.html", **context),
            headers={"Auto-Submitted": "auto-generated"},
        )
    )


def send_receipt(member: Member, receipt: dict[str, Any]) -> str:
    """Mail the signed ``receipt`` to the member's address, with the JSON attached as
    ``receipt-<id>.json``; returns the Message-ID. Raises
    :class:`~app.mail.message.MailError` when it cannot be sent."""
    consent = receipt["consent"]
    subject = f"Your consent receipt: {consent['scope_title']}"
    context = {
        "member": member,
        "receipt": receipt,
        "consent": consent,
        "subject": subject,
        "at": datetime.fromisoformat(consent["at"]),
        "url": external_url("consent.receipt_page", receipt=receipt["receipt"]),
    }
    return send_message(
        Message(
            to=member.email,
            to_name=member.display_name,
            subject=subject,
            text=render_template("mail/consent/receipt.txt", **context),
            html=render_template("mail/consent/receipt.html", **context),
            headers={"Auto-Submitted": "auto-generated"},
            attachments=(
                Attachment(
                    f"receipt-{receipt['receipt']}.json",
                    receipt_file(receipt).encode("utf-8"),
                    "application/json",
                ),
            ),
        )
    )
