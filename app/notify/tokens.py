"""Tokens in messages: unsubscribe links and tracked links.

Both are HMACs (:mod:`app.signing`) scoped to their purpose and to the delivery they belong to.
Neither signs anyone in.

- unsubscribe: (member, scope, channel, delivery), purpose ``notify.unsubscribe``; works for
  400 days, so a message found months later still stops what it was about;
- click: (delivery, URL), purpose ``notify.click``; the tracker redirects only to that URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

from app import signing

UNSUBSCRIBE_PURPOSE = "notify.unsubscribe"
CLICK_PURPOSE = "notify.click"
OPEN_PURPOSE = "notify.open"
LIFETIME = timedelta(days=400)
MAX_TRACKED_URL = 700


@dataclass(frozen=True)
class Unsubscribe:
    member_id: int
    scope: str
    channel: str
    delivery_id: int | None


@dataclass(frozen=True)
class TrackedLink:
    delivery_id: int
    url: str


def unsubscribe_token(member_id: int, scope: str, channel: str, delivery_id: int | None) -> str:
    return signing.sign(
        UNSUBSCRIBE_PURPOSE, {"m": member_id, "s": scope, "c": channel, "d": delivery_id}, LIFETIME
    )


def read_unsubscribe(token: str) -> Unsubscribe:
    """Raises :class:`~app.signing.TokenForged` or :class:`~app.signing.TokenExpired`."""
    payload = signing.unsign(UNSUBSCRIBE_PURPOSE, token)
    try:
        delivery = payload.get("d")
        return Unsubscribe(
            int(payload["m"]),
            str(payload["s"]),
            str(payload["c"]),
            int(delivery) if delivery is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        raise signing.TokenForged("incomplete token") from None


def trackable(url: str) -> bool:
    """Whether a link can go through the tracker: an absolute http(s) URL of sane length that
    the redirect's Location header carries unchanged (Werkzeug re-quotes that header, and
    re-quoting could move an escaped "/" or "\\" out of the user-info and change the host).
    Other links stay as they were written, untracked."""
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and len(url) <= MAX_TRACKED_URL
        and iri_to_uri(url) == url
    )


def click_token(delivery_id: int, url: str) -> str:
    return signing.sign(CLICK_PURPOSE, {"d": delivery_id, "u": url}, LIFETIME)


def read_click(token: str) -> TrackedLink:
    """The signed (delivery, URL). Raises :class:`~app.signing.TokenForged` (also for a URL
    that is not http or https) or :class:`~app.signing.TokenExpired`."""
    payload = signing.unsign(CLICK_PURPOSE, token)
    try:
        link = TrackedLink(int(payload["d"]), str(payload["u"]))
    except (KeyError, TypeError, ValueError):
        raise signing.TokenForged("incomplete token") from None
    if not trackable(link.url):
        raise signing.TokenForged("not a web address")
    return link


def open_token(delivery_id: int) -> str:
    return signing.sign(OPEN_PURPOSE, {"d": delivery_id}, LIFETIME)


def read_open(token: str) -> int:
    payload = signing.unsign(OPEN_PURPOSE, token)
    try:
        return int(payload["d"])
    except (KeyError, TypeError, ValueError):
        raise signing.TokenForged("incomplete token") from None
