"""Rate limits on the requests an attacker would repeat: sign-in, sign-up, password reset,
sign-in links and verification mails. Each is limited per IP address and per email address,
with counters shared across those endpoints (guessing on one does not reset another)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter

F = TypeVar("F", bound=Callable[..., object])


def _per_ip() -> str:
    return str(current_app.config["RATELIMIT_AUTH_IP"])


def _per_account() -> str:
    return str(current_app.config["RATELIMIT_AUTH_ACCOUNT"])


def account_key() -> str:
    """The case-folded email address in the form, or the IP when the form has none."""
    email = (request.form.get("email") or "").strip().casefold()[:254]
    return f"account:{email}" if email else f"ip:{get_remote_address()}"


def auth_limits(view: F) -> F:
    limited = limiter.shared_limit(_per_ip, scope="auth-ip", methods=["POST"])(view)
    limited = limiter.shared_limit(
        _per_account, scope="auth-account", key_func=account_key, methods=["POST"]
    )(limited)
    return limited  # type: ignore[return-value]
