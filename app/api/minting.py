"""Minting codes for a till: single-use codes added to a batch that already exists (the till
never creates batches or changes their terms), with the redeem address for each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.api.errors import Conflict, NotFound
from app.engage.redemption import find_batch, issue_codes
from app.web.urls import external_url


def redeem_url(code: str) -> str:
    """``<BASE_URL>/redeem?code=<code>``: the redeem page fills its form from it."""
    return external_url("engage.redeem_code", code=code)


def mint(batch_name: str, count: int, now: datetime) -> dict[str, Any]:
    """Add ``count`` codes to batch ``batch_name`` with its own uses and expiry; the caller
    commits. Returns the answer's body (the only place the printed codes exist).

    Raises :class:`NotFound` for an unknown batch, :class:`Conflict` for an expired one.
    """
    batch = find_batch(batch_name)
    if batch is None:
        raise NotFound(f"There is no code batch named {batch_name!r}; issue it in the admin first.")
    if batch.expires_at is not None and now >= batch.expires_at:
        raise Conflict(f"The batch {batch_name!r} has expired: its codes would never work.")
    issued = issue_codes(batch.name, count, now=now)
    return {
        "batch": issued.batch,
        "uses": issued.uses,
        "codes": [{"code": code, "redeem_url": redeem_url(code)} for code in issued.codes],
        "expires_at": issued.expires_at,
    }
