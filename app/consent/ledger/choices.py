"""One control per scope: the consent sentence shown once, a switch per channel, one save.

Saving compares the switches with the ledger and records only the differences, each as its own
event with its own words: a switch turned on is a grant of (member, scope, channel) recording
:meth:`Scope.wording_for` the channel (the sentence shown once above the switches, and for text
messages the terms shown beside that switch); a switch turned off is a revoke recording the
switch's label and the save button (:func:`app.consent.words.switch_off_words`). A yes given to
older wording counts as off, so switching it on again records a grant to the current words.

The form carries a token signed for the member and the scope, listing the channels the page
offered as switches, the ledger state and the words it showed: a page out of date (the state
or the words changed since) changes nothing, and a channel the page did not offer is never
touched. Everything is checked before anything is written; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app import signing
from app.consent.errors import NotEarned, StaleRequest
from app.consent.ledger.consents import Origin, grant_consent, revoke_consent, states_of
from app.consent.ledger.toggles import OUT_OF_DATE
from app.consent.models import ConsentState
from app.consent.scopes import Scope, in_channel_order, wording_hash
from app.consent.terms import Channel
from app.rewards.entitlements import holds

CHOICES_PURPOSE = "consent.choices"
CHOICES_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class Switch:
    """One channel's switch as the page shows it: on when a yes to the current words stands."""

    channel: Channel
    on: bool
    granted_at: datetime | None


@dataclass(frozen=True)
class Saved:
    """What a save changed, in channel order."""

    granted: tuple[Channel, ...]
    revoked: tuple[Channel, ...]


def _current(state: ConsentState | None, scope: Scope, channel: str) -> bool:
    return bool(
        state is not None
        and state.granted
        and state.wording_version == scope.consent_version
        and state.wording_hash == scope.wording_hash_for(channel)
    )


def switches(member_id: int, scope: Scope, offered: Iterable[str]) -> tuple[Switch, ...]:
    """The switches of ``offered`` channels of ``scope``, in channel order."""
    states = states_of(member_id)
    return tuple(
        Switch(
            c,
            _current(states.get((scope.slug, c)), scope, c),
            states[(scope.slug, c)].granted_at if (scope.slug, c) in states else None,
        )
        for c in in_channel_order(offered)
        if c in scope.channels
    )


def _words_hash(scope: Scope, offered: tuple[Channel, ...]) -> str:
    return wording_hash("\n".join(scope.wording_for(c) for c in offered))


def choices_token(member_id: int, scope: Scope, offered: Iterable[str]) -> str:
    """The token of the form that shows ``offered`` channels of ``scope`` as switches."""
    channels = in_channel_order(c for c in offered if c in scope.channels)
    states = states_of(member_id)
    return signing.sign(
        CHOICES_PURPOSE,
        {
            "m": member_id,
            "s": scope.slug,
            "c": list(channels),
            "e": [
                states[(scope.slug, c)].event_id if (scope.slug, c) in states else 0
                for c in channels
            ],
            "v": scope.consent_version,
            "w": _words_hash(scope, channels),
        },
        CHOICES_LIFETIME,
    )


def check_choices(token: str, member_id: int, scope: Scope) -> tuple[Channel, ...]:
    """The channels the form offered. Raises :class:`~app.signing.TokenError` for a token made
    for another member or scope (or forged), :class:`StaleRequest` when it expired or the
    ledger state, the version or the words changed since the page was made."""
    try:
        payload = signing.unsign(CHOICES_PURPOSE, token)
    except signing.TokenExpired:
        raise StaleRequest(OUT_OF_DATE) from None
    if (payload.get("m"), payload.get("s")) != (member_id, scope.slug):
        raise signing.TokenForged("token made for another member or scope")
    named = payload.get("c")
    if not isinstance(named, list) or any(c not in scope.channels for c in named):
        raise StaleRequest(OUT_OF_DATE)  # the scope no longer offers a channel the page showed
    offered = in_channel_order(named)
    states = states_of(member_id)
    events = [states[(scope.slug, c)].event_id if (scope.slug, c) in states else 0 for c in offered]
    if (
        events != payload.get("e")
        or payload.get("v") != scope.consent_version
        or payload.get("w") != _words_hash(scope, offered)
    ):
        raise StaleRequest(OUT_OF_DATE)
    return offered


def save_choices(
    member_id: int,
    scope: Scope,
    offered: tuple[Channel, ...],
    wanted: Iterable[str],
    origin: Origin,
    now: datetime,
    *,
    off_words: Callable[[Channel], str],
    origin_for: Callable[[Channel, Origin], Origin] | None = None,
) -> Saved:
    """Record the differences between the switches (``wanted``: the channels switched on,
    among ``offered``) and the ledger. Raises :class:`NotEarned` before writing anything when
    the member does not hold the scope; :class:`~app.consent.errors.ConsentError` from the
    ledger otherwise (the caller rolls back)."""
    if not holds(member_id, scope.reward):
        raise NotEarned(f"{scope.title} is offered to members who earned it.")
    on = set(wanted) & set(offered)
    states = states_of(member_id)
    granted, revoked = [], []
    for channel in offered:
        state = states.get((scope.slug, channel))
        if channel in on and not _current(state, scope, channel):
            shown_at = origin_for(channel, origin) if origin_for else origin
            wording = scope.wording_for(channel)
            if grant_consent(member_id, scope, channel, wording, shown_at, now) is not None:
                granted.append(channel)
        elif channel not in on and state is not None and state.granted:
            event = revoke_consent(
                member_id, scope.slug, channel, origin, now, wording=off_words(channel)
            )
            if event is not None:
                revoked.append(channel)
    return Saved(tuple(granted), tuple(revoked))
