"""How the consent area puts actions and sources into words for members."""

from __future__ import annotations

SOURCES = {
    "form:subscribe": "the subscription form",
    "form:rewards": "your rewards page",
    "form:cta": "a form on an article",
    "preferences": "your permissions page",
    "unsubscribe-link": "the unsubscribe link in a message",
    "why-page": "the \u201cwhy did I get this?\u201d page",
    "admin": "our team, at your request",
    "expiry": "automatically, because it lapsed without use",
    "demo": "the demo data of this site",
}


def source_words(source: str) -> str:
    if source in SOURCES:
        return SOURCES[source]
    if source.startswith("form:"):
        return f"the form \u201c{source.removeprefix('form:')}\u201d"
    return source


def action_words(action: str) -> str:
    """``survey:reader-2026`` → "completed the survey reader-2026"."""
    kind, _, ref = action.partition(":")
    return {
        "account": "confirmed your email address",
        "referral": "brought a friend",
        "subscribe": f"subscribed to {ref}",
        "survey": f"completed the survey {ref}",
        "code": f"redeemed a code ({ref})" if ref != "*" else "redeemed a code",
        "read": f"read {ref}",
    }.get(kind, action)


CHANNELS = {"email": "by email", "inbox": "in your inbox on this site", "webhook": "by webhook"}


def channel_words(channel: str) -> str:
    return CHANNELS.get(channel, channel)
