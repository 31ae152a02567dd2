"""Messages signed the Standard Webhooks way (https://www.standardwebhooks.com).

Every message carries the headers ``webhook-id`` (the idempotency key receivers de-duplicate
on), ``webhook-timestamp`` and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>">`` keyed by the bytes of the secret (``whsec_<base64>``). Sending goes
through :mod:`app.outbound.client`, so the same address rules apply to every webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.outbound import client

SIGNATURE_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for a message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "Pullfirst-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """What a receiver does: the signature matches and the timestamp is within 5 minutes."""
    try:
        message_id, stamp = headers["webhook-id"], int(headers["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, stamp, body)
    return any(
        hmac.compare_digest(expected, given)
        for given in headers.get("webhook-signature", "").split()
    )


def message_body(event_type: str, data: Mapping[str, Any], now: datetime) -> bytes:
    return json.dumps(
        {"type": event_type, "timestamp": now.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def deliver(
    url: str,
    secret: str,
    message_id: str,
    event_type: str,
    data: Mapping[str, Any],
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> client.HttpResult:
    """Sign and POST one message. ``message_id`` is the idempotency key receivers de-duplicate
    on. Raises what :func:`app.outbound.client.post` raises."""
    body = message_body(event_type, data, now)
    headers = signature_headers(secret, message_id, int(now.timestamp()), body)
    return client.post(url, body, headers, allow_loopback=allow_loopback, resolve=resolve)
