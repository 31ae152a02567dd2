"""Rate limits on code redemption: per IP address and per member, counted on every attempt
(right or wrong), in the limiter's storage (shared when ``RATELIMIT_STORAGE_URI`` is Redis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter

F = TypeVar("F", bound=Callable[..., object])


def _per_ip() -> str:
    return str(current_app.config["RATELIMIT_REDEEM_IP"])


def _per_member() -> str:
    return str(current_app.config["RATELIMIT_REDEEM_MEMBER"])


def member_key() -> str:
    """The signed-in member, or the IP address for visitors."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return f"ip:{get_remote_address()}"


def redeem_limits(view: F) -> F:
    limited = limiter.limit(_per_ip, scope="redeem-ip", methods=["POST"])(view)
    limited = limiter.limit(
        _per_member, scope="redeem-member", key_func=member_key, methods=["POST"]
    )(limited)
    return limited  # type: ignore[return-value]
