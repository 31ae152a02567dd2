"""Short tracked links for text messages: ``<BASE_URL>/s/<code>``.

A text has no room for the long signed links of email, so each address in a campaign text
becomes a short code kept in ``short_links`` with its delivery. The code is a keyed hash of
the delivery and the address (ten characters of ``[A-Za-z0-9]``, about 59 bits): the same
delivery and address always give the same code, so a retried send writes nothing new, and
nobody can make up the code of another delivery. Following one counts as the member's click,
like the links of email.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app import signing
from app.extensions import db
from app.notify.models import ShortLink
from app.web.urls import external_url

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LENGTH = 10


def code_for(delivery_id: int, url: str) -> str:
    digest = hmac.new(
        signing.purpose_key("short-link"), f"{delivery_id}\n{url}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest[:10], "big")
    letters = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[index])
    return "".join(letters)


def short_url(code: str) -> str:
    return external_url("notify.short_link", code=code)


def sample_url() -> str:
    """A short link as long as every real one, for counting a text's length."""
    return short_url("x" * LENGTH)


def shorten(delivery_id: int, url: str, now: datetime) -> str:
    """The short link of ``url`` in the delivery's text, kept if new. The caller commits."""
    code = code_for(delivery_id, url)
    insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(ShortLink)
        .values(code=code, delivery_id=delivery_id, url=url, created_at=now)
        .on_conflict_do_nothing(index_elements=["code"])
    )
    return short_url(code)


def resolve(code: str) -> ShortLink | None:
    if not (len(code) == LENGTH and code.isascii() and code.isalnum()):
        return None
    found: ShortLink | None = db.session.scalar(select(ShortLink).where(ShortLink.code == code))
    return found
