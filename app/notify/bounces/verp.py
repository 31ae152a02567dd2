"""The envelope sender of campaign mail: ``bounces+<delivery id>.<tag>@<bounce domain>``.

Receiving servers send bounces (and RFC 3834 auto-replies) to the envelope sender, not to the
``From`` header, so each campaign mail carries its own: the delivery id says which message came
back, and the tag (the first :data:`TAG_LENGTH` hex digits of an HMAC-SHA256 of the id, under
a key derived from ``SECRET_KEY`` for this purpose only) says that we made the address. A
report to an address whose tag does not verify changes nothing, so nobody can suppress a member
by sending a made-up bounce. Changing ``SECRET_KEY`` makes the bounces of mail sent before it
unrecognisable.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from email.utils import parseaddr
from hashlib import sha256

from flask import current_app

from app.signing import purpose_key

LOCAL_PREFIX = "bounces+"
TAG_LENGTH = 10
_BRACKETED = re.compile(r"<([^<>]{0,300})>\s*$")
_VERP = re.compile(r"bounces\+([0-9]{1,18})\.([0-9a-f]+)@([a-z0-9.-]{1,253})", re.IGNORECASE)


@dataclass(frozen=True)
class Verp:
    """A ``bounces+…`` address as written; :func:`genuine` says whether we made it."""

    delivery_id: int
    tag: str
    domain: str


def tag_for(delivery_id: int, key: bytes) -> str:
    return hmac.new(key, f"delivery:{delivery_id}".encode(), sha256).hexdigest()[:TAG_LENGTH]


def verp_address(delivery_id: int, domain: str, key: bytes) -> str:
    """The envelope sender of delivery ``delivery_id``."""
    return f"{LOCAL_PREFIX}{delivery_id}.{tag_for(delivery_id, key)}@{domain}"


def read_verp(address: str) -> Verp | None:
    """The parts of a ``bounces+<id>.<tag>@<domain>`` address (also inside ``<…>`` or with a
    display name), or None when it is not one. Says nothing about whether the tag is ours."""
    text = address.strip()
    if "<" in text or ">" in text:
        bracketed = _BRACKETED.search(text)
        if bracketed is None:
            return None
        text = bracketed.group(1).strip()
    match = _VERP.fullmatch(text)
    if match is None:
        return None
    return Verp(int(match.group(1)), match.group(2).lower(), match.group(3).lower().rstrip("."))


def genuine(verp: Verp, key: bytes) -> bool:
    """Whether the tag is the one :func:`verp_address` gives the delivery (mail servers may
    change the case of a local part, so case does not matter)."""
    return hmac.compare_digest(verp.tag, tag_for(verp.delivery_id, key))


def bounce_key() -> bytes:
    """The key of the tags, derived from this app's ``SECRET_KEY``."""
    return purpose_key("verp")


def bounce_domain() -> str:
    """``NOTIFY_BOUNCE_DOMAIN``, or the domain of ``MAIL_FROM`` when it is empty."""
    configured = str(current_app.config.get("NOTIFY_BOUNCE_DOMAIN") or "")
    if configured:
        return configured
    return parseaddr(current_app.config["MAIL_FROM"])[1].rsplit("@", 1)[-1].lower()
