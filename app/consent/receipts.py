"""Consent receipts: what was shown, when and how, for one ledger event, as data a member can
keep (JSON) and read (HTML)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from app.accounts.models import Member
from app.consent.models import ConsentEvent
from app.consent.scopes import find_scope
from app.consent.words import channel_words, source_words

RECEIPT_VERSION = "pullfirst-consent-receipt/1"


def receipt_data(event: ConsentEvent, member: Member, site_title: str, postal_address: str,
                 now: datetime) -> dict[str, Any]:
    """The receipt of ``event`` for ``member``, as JSON values."""
    scope = find_scope(event.scope)
    return {
        "receipt": event.receipt,
        "version": RECEIPT_VERSION,
        "issued_at": now.isoformat(),
        "controller": {"name": site_title, "postal_address": postal_address,
                       "url": current_app.config["BASE_URL"]},
        "subject": {"email": member.email},
        "consent": {
            "action": event.action,
            "scope": event.scope,
            "scope_title": scope.title if scope else event.scope,
            "promise": scope.promise if scope else None,
            "channel": event.channel,
            "channel_words": channel_words(event.channel),
            "at": event.at.isoformat(),
            "source": event.source,
            "source_words": source_words(event.source),
            "page": event.page,
            "wording": event.wording,
            "wording_version": event.wording_version,
            "wording_sha256": event.wording_hash,
        },
        "client_hash": event.client_hash,
        "client_hash_is": "an HMAC-SHA256 of your IP address and browser, keyed with a salt "
                          "that is deleted with your account",
    }
