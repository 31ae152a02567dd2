"""API keys: make one (the key exists in clear only in the answer), find the key a request
sends, note its use, revoke it.

A key reads ``pf_<prefix>_<secret>``: the prefix (8 hex characters) is shown in the admin list to
tell keys apart; the secret is 256 random bits. Only the SHA-256 of the whole key is stored: the
key is too long to guess, so a plain hash is as strong as a keyed one here, and keys survive a
change of ``SECRET_KEY`` (which signs members out, and should not stop every till).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.api.errors import ApiKeyError, Unauthenticated
from app.api.rest_models import ApiKey
from app.extensions import db


class Permission(StrEnum):
    """What a key may do; each operation of the API needs one."""

    CODES_MINT = "codes:mint"
    ACTIONS_RECORD = "actions:record"
    CONSENT_READ = "consent:read"
    MEMBERS_READ = "members:read"
    CAMPAIGNS_READ = "campaigns:read"


PERMISSION_HELP = {
    Permission.CODES_MINT: "mint single-use in-store codes into an existing batch",
    Permission.ACTIONS_RECORD: "record a member's action (a purchase), which may earn rewards",
    Permission.CONSENT_READ: "read a member's consent states and ledger events",
    Permission.MEMBERS_READ: "read a member's account and earned rewards",
    Permission.CAMPAIGNS_READ: "read campaigns and their results",
}

DEFAULT_RATE_LIMIT = 120
MAX_RATE_LIMIT = 10_000
MAX_NAME = 80
#: A key's last use is written at most this often, so a busy till costs no write per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)
KEY_FORMAT = re.compile(r"^pf_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``secret`` is the whole key, shown once and never stored."""

    key: ApiKey
    secret: str


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    name: str,
    permissions: Iterable[str],
    rate_limit: int,
    *,
    created_by: int | None,
    now: datetime,
) -> NewKey:
    """Make a key; the caller commits. Raises :class:`ApiKeyError` for an empty or long name, no
    permission or an unknown one, or a rate limit outside 1..:data:`MAX_RATE_LIMIT`."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"Name the key (up to {MAX_NAME} characters), after the till or CRM.")
    chosen = sorted(set(permissions))
    if not chosen:
        raise ApiKeyError("Give the key at least one permission.")
    unknown = [p for p in chosen if p not in Permission.__members__.values()]
    if unknown:
        raise ApiKeyError(f"Unknown permission: {', '.join(unknown)}.")
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise ApiKeyError(f"The rate limit is between 1 and {MAX_RATE_LIMIT:,} requests a minute.")
    prefix = secrets.token_hex(4)
    while db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = secrets.token_hex(4)  # 1 in 4 billion: never twice the same visible prefix
    secret = f"pf_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=f"pf_{prefix}",
        key_hash=key_hash(secret),
        permissions=",".join(chosen),
        rate_limit=rate_limit,
        created_at=now,
        created_by=created_by,
    )
    db.session.add(key)
    db.session.flush()
    return NewKey(key, secret)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(secret: str | None) -> ApiKey:
    """The live key whose secret this is. Raises :class:`Unauthenticated` for no key, a
    malformed or unknown one, or a revoked one."""
    if secret is None:
        raise Unauthenticated("Send an API key as Authorization: Bearer <key>.")
    if KEY_FORMAT.match(secret) is None:
        raise Unauthenticated("This is not a Pullfirst API key.")
    digest = key_hash(secret)
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise Unauthenticated("This API key is not known.")
    if key.revoked_at is not None:
        raise Unauthenticated("This API key was revoked.")
    return key


def needs_touch(key: ApiKey, now: datetime) -> bool:
    return key.last_used_at is None or now - key.last_used_at >= LAST_USE_RESOLUTION


def touch(key: ApiKey, now: datetime) -> None:
    """Note that the key was used now, unless it was noted less than a minute ago (also by
    another process: the condition is in the UPDATE). The caller commits."""
    db.session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USE_RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(key, "last_used_at", now)


def all_keys() -> list[ApiKey]:
    """Every key, live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey).order_by(
                ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc()
            )
        )
    )


def get_key(key_id: int) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)


def revoke_key(key: ApiKey, now: datetime) -> bool:
    """Revoke ``key``; False when it already was. The caller commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    return True
