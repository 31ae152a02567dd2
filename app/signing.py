"""Signed, expiring, purpose-scoped tokens for links in mail and pages.

A token is an HMAC (itsdangerous, keyed by ``SECRET_KEY``, salted by the purpose) over a small
JSON payload. A token made for one purpose never verifies for another, and carries its own expiry
time, checked against :mod:`app.clock`.

Errors::

    TokenError            the token cannot be used
    ├── TokenForged       bad signature, wrong purpose, or not a token at all
    ├── TokenExpired      genuine, but past its expiry time
    └── TokenUsed         genuine, but single-use and already used
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app import clock

MAX_TOKEN_LENGTH = 1024


class TokenError(Exception):
    """A token that cannot be used. ``kind`` is ``forged``, ``expired`` or ``used``."""

    kind = "invalid"


class TokenForged(TokenError):
    kind = "forged"


class TokenExpired(TokenError):
    kind = "expired"

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("token expired")
        self.payload = payload


class TokenUsed(TokenError):
    kind = "used"


def _serializer(purpose: str) -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=64)
def _serializer_for(secret: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"pullfirst.{purpose}")


def purpose_key(purpose: str) -> bytes:
    """A key for one purpose (HMAC-SHA256 of ``pullfirst.<purpose>`` keyed by ``SECRET_KEY``):
    a value signed with it never verifies under another purpose's key."""
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(secret, f"pullfirst.{purpose}".encode(), hashlib.sha256).digest()


def sign(purpose: str, payload: dict[str, Any], max_age: timedelta | None = None) -> str:
    """Sign ``payload`` for ``purpose``. With ``max_age`` the token expires; it always carries a
    random id ``j`` that single-use checks record."""
    body = dict(payload)
    body["j"] = secrets.token_hex(8)
    if max_age is not None:
        body["x"] = int((clock.now() + max_age).timestamp())
    return str(_serializer(purpose).dumps(body))


def unsign(purpose: str, token: str) -> dict[str, Any]:
    """Return the payload of a genuine, unexpired token for ``purpose``.

    Raises :class:`TokenForged` or :class:`TokenExpired`.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenForged("not a token")
    try:
        payload = _serializer(purpose).loads(token)
    except BadSignature:
        raise TokenForged("bad signature") from None
    if not isinstance(payload, dict):
        raise TokenForged("not a token")
    expires = payload.get("x")
    if expires is not None and clock.now().timestamp() > float(expires):
        raise TokenExpired(payload)
    return payload
