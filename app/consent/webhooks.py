"""Members' webhook endpoints: add, verify with a signed challenge, remove, disable.

An endpoint is added unverified with a fresh secret (``whsec_…``, shown to its member). It gets
messages once it answered a signed challenge: we POST ``{"type": "endpoint.verification",
"data": {"challenge": "<random>"}}`` and the endpoint must answer 2xx with the challenge as
its body (or as ``{"challenge": "…"}``). Messages and the challenge are signed by
:mod:`app.outbound.signing` and sent by :mod:`app.outbound.client`. Callers should not hold a
database transaction open across :func:`send_challenge`.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.consent.models import WebhookEndpoint
from app.extensions import db
from app.outbound import client
from app.outbound.errors import WebhookError, WebhookFailed
from app.outbound.signing import deliver, new_secret

MAX_ENDPOINTS = 5
VERIFICATION_TYPE = "endpoint.verification"


# --- endpoints ------------------------------------------------------------------------------


def endpoints_of(member_id: int) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.member_id == member_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def get_endpoint(member_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    """The member's endpoint; None for an unknown id or another member's."""
    return db.session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.member_id == member_id
        )
    )


def add_endpoint(
    member_id: int,
    url: str,
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> WebhookEndpoint:
    """Add an unverified endpoint after checking its address. Raises
    :class:`~app.consent.errors.UnsafeWebhookURL` or :class:`WebhookError` (already added, or
    too many endpoints)."""
    target = client.check_url(url.strip(), allow_loopback=allow_loopback, resolve=resolve)
    count = (
        db.session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.member_id == member_id)
        )
        or 0
    )
    if count >= MAX_ENDPOINTS:
        raise WebhookError(f"You can have at most {MAX_ENDPOINTS} endpoints. Remove one first.")
    endpoint = WebhookEndpoint(
        member_id=member_id, url=target.url, secret=new_secret(), created_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(endpoint)
    except IntegrityError:
        raise WebhookError("You already added this address.") from None
    return endpoint


def remove_endpoint(member_id: int, endpoint_id: int) -> bool:
    """Remove the member's endpoint; False when it is not theirs or does not exist."""
    result = db.session.execute(
        delete(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.member_id == member_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Challenge:
    """A verification message, prepared inside a transaction and sent outside it."""

    endpoint_id: int
    url: str
    secret: str
    challenge: str


def prepare_challenge(endpoint: WebhookEndpoint) -> Challenge:
    return Challenge(endpoint.id, endpoint.url, endpoint.secret, secrets.token_urlsafe(24))


def _answer(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return str(data.get("challenge", "")) if isinstance(data, dict) else text


def send_challenge(
    challenge: Challenge,
    now: datetime,
    *,
    allow_loopback: bool = False,
    resolve: client.Resolver = client.system_resolver,
) -> None:
    """POST the signed challenge; return when the endpoint echoed it. Raises
    :class:`WebhookFailed` (with a message for the member) or ``UnsafeWebhookURL``."""
    result = deliver(
        challenge.url,
        challenge.secret,
        f"verify_{challenge.challenge[:12]}",
        VERIFICATION_TYPE,
        {"challenge": challenge.challenge},
        now,
        allow_loopback=allow_loopback,
        resolve=resolve,
    )
    if 300 <= result.status < 400:
        raise WebhookFailed(
            f"The endpoint answered with a redirect ({result.status}); "
            "redirects are not followed. Use the final address."
        )
    if not result.ok:
        raise WebhookFailed(f"The endpoint answered {result.status} instead of 2xx.")
    if not hmac.compare_digest(_answer(result.body), challenge.challenge):
        raise WebhookFailed("The endpoint answered, but not with the challenge it was sent.")


def mark_verified(member_id: int, endpoint_id: int, now: datetime) -> bool:
    """Record that the member's endpoint answered its challenge (and enable it again)."""
    result = db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.member_id == member_id)
        .values(verified_at=now, disabled_at=None, disabled_reason=None)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


def disable_endpoint(endpoint_id: int, reason: str, now: datetime) -> None:
    """Stop using an endpoint (the notifier, after it kept failing); its member sees why."""
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(disabled_at=now, disabled_reason=reason[:64])
        .execution_options(synchronize_session="fetch")
    )
