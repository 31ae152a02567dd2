""" "Why did I get this?": a link in every message that explains it in words.

:func:`why_url` makes the link (a scoped HMAC token over member, scope, channel, the time the
message was sent and its kind); the page reads it with :func:`read_why` and shows
:func:`why_explanation`: how the member earned the scope, the consent in force when the
message was sent (its exact wording, when and where it was given), what we promised, and
whether the permission still stands, with a one-click stop. Higher areas add their own
sentences through :data:`WHY_REASONS` (the notifier: why a campaign meant for some members
chose this one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from app import signing
from app.accounts.members import get_member
from app.accounts.models import Member
from app.consent.ledger import consents
from app.consent.models import ConsentEvent, ConsentState
from app.consent.scopes import Scope, find_scope
from app.extensions import db
from app.registry import Registry
from app.rewards.models import Entitlement
from app.web.urls import external_url

WHY_PURPOSE = "consent.why"
WHY_LIFETIME = timedelta(days=400)


def why_token(
    member_id: int,
    scope: str,
    channel: str,
    sent_at: datetime,
    kind: str = "editorial",
    delivery_id: int | None = None,
) -> str:
    payload: dict[str, object] = {
        "m": member_id,
        "s": scope,
        "c": channel,
        "t": int(sent_at.timestamp()),
        "k": kind,
    }
    if delivery_id is not None:
        payload["d"] = delivery_id
    return signing.sign(WHY_PURPOSE, payload, WHY_LIFETIME)


def why_url(
    member_id: int,
    scope: str,
    channel: str,
    sent_at: datetime,
    kind: str = "editorial",
    delivery_id: int | None = None,
) -> str:
    """The absolute URL of the explanation of a message sent to ``member_id`` about ``scope``
    on ``channel`` at ``sent_at`` (``kind``: the campaign's, editorial or promotional;
    ``delivery_id``: the notifier's delivery, so the page can say what put the member in its
    audience and when it waited for them). The notifier puts it in every message; it works
    for 400 days."""
    token = why_token(member_id, scope, channel, sent_at, kind, delivery_id)
    return external_url("consent.why_page", token=token)


@dataclass(frozen=True)
class WhyLink:
    member_id: int
    scope: str
    channel: str
    sent_at: datetime
    kind: str
    delivery_id: int | None = None


def read_why(token: str) -> WhyLink:
    """Raises :class:`~app.signing.TokenForged` or :class:`~app.signing.TokenExpired`."""
    payload = signing.unsign(WHY_PURPOSE, token)
    try:
        return WhyLink(
            int(payload["m"]),
            str(payload["s"]),
            str(payload["c"]),
            datetime.fromtimestamp(int(payload["t"]), UTC),
            str(payload["k"]),
            int(payload["d"]) if payload.get("d") is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        raise signing.TokenForged("incomplete token") from None


@dataclass(frozen=True)
class Why:
    link: WhyLink
    member: Member
    scope: Scope | None
    earned: Entitlement | None
    in_force: ConsentEvent | None  # the latest event at the time of the message
    now: ConsentState | None  # the state today

    @property
    def still_allowed(self) -> bool:
        return self.now is not None and self.now.granted


def why_explanation(link: WhyLink) -> Why | None:
    """The facts behind one message; None when the member no longer exists."""
    member = get_member(link.member_id)
    if member is None or not member.is_active:
        return None
    earned = db.session.scalar(
        select(Entitlement).where(
            Entitlement.member_id == member.id, Entitlement.reward == f"scope:{link.scope}"
        )
    )
    return Why(
        link=link,
        member=member,
        scope=find_scope(link.scope),
        earned=earned,
        in_force=consents.event_in_force(
            member.id, link.scope, link.channel, link.sent_at + timedelta(seconds=1)
        ),
        now=consents.states_of(member.id).get((link.scope, link.channel)),
    )


# --- what higher areas add to the page --------------------------------------------------

WhyReasons = Callable[[WhyLink], list[str]]

WHY_REASONS = Registry[WhyReasons](
    "why_reasons", "sentences about one message that a higher area adds to its why page"
)


def register_why_reasons(app: Flask, name: str, reasons: WhyReasons) -> None:
    """Add ``reasons``: for a message's link, the sentences (possibly none) that say why this
    member among the others got it (the notifier: the answers and reading a campaign's
    audience filter chose them by)."""
    WHY_REASONS.add(app, name, reasons)


def added_reasons(link: WhyLink) -> list[str]:
    """The sentences every contributor of :data:`WHY_REASONS` adds for ``link``, in order."""
    return [sentence for reasons in WHY_REASONS.items() for sentence in reasons(link)]


# --- the articles picked for the member (a digest's issue) ------------------------------


@dataclass(frozen=True)
class WhyPick:
    """One article chosen for the member in the message: its title, its address (None for
    an article no longer published) and the sentence that says why it was chosen."""

    title: str
    url: str | None
    reason: str


WhyPicks = Callable[[WhyLink], list[WhyPick]]

WHY_PICKS = Registry[WhyPicks](
    "why_picks", "the articles a higher area picked for the member in one message, with why"
)


def register_why_picks(app: Flask, name: str, picks: WhyPicks) -> None:
    """Add ``picks``: for a message's link, the articles chosen for this member in it, in
    order (the notifier: a digest's issue), or none."""
    WHY_PICKS.add(app, name, picks)


def picked_for(link: WhyLink) -> list[WhyPick]:
    """The articles every contributor of :data:`WHY_PICKS` says were picked for ``link``."""
    return [pick for picks in WHY_PICKS.items() for pick in picks(link)]
