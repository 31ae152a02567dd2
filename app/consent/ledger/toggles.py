"""The tokens behind the yes and stop buttons.

Each button carries a token signed for (member, scope, channel, action) and, for a yes, the
ledger state the page showed and the wording version shown. A yes whose page is out of date
(the state changed since, or the token was already used) is refused: a replayed request
changes nothing. A stop is always honoured for the member it was made for.
"""

from __future__ import annotations

from datetime import timedelta

from app import signing
from app.consent.errors import StaleRequest
from app.consent.ledger.consents import states_of
from app.consent.scopes import Scope
from app.consent.terms import Channel

TOGGLE_PURPOSE = "consent.toggle"
TOGGLE_LIFETIME = timedelta(days=1)
YES, STOP = "yes", "stop"
OUT_OF_DATE = "This page was out of date, so nothing changed. Here is how things stand now."


def toggle_token(
    member_id: int, scope: str, channel: str, action: str, event_id: int, version: int
) -> str:
    return signing.sign(
        TOGGLE_PURPOSE,
        {"m": member_id, "s": scope, "c": channel, "a": action, "e": event_id, "v": version},
        TOGGLE_LIFETIME,
    )


def tokens_for(member_id: int, scope: Scope) -> dict[Channel, dict[str, str]]:
    """``{channel: {"yes": token, "stop": token}}`` for the member's current state."""
    states = states_of(member_id)
    tokens: dict[Channel, dict[str, str]] = {}
    for channel in scope.channels:
        state = states.get((scope.slug, channel))
        event_id = state.event_id if state is not None else 0
        tokens[channel] = {
            action: toggle_token(
                member_id, scope.slug, channel, action, event_id, scope.consent_version
            )
            for action in (YES, STOP)
        }
    return tokens


def stop_token(member_id: int, scope: str, channel: str) -> str:
    return toggle_token(member_id, scope, channel, STOP, 0, 0)


def check_toggle(token: str, member_id: int, scope: Scope | str, channel: str, action: str) -> None:
    """Check a button's token for this member and request. Raises
    :class:`~app.signing.TokenError` for a forged token, or one made for another member,
    scope, channel or action; :class:`StaleRequest` for a yes whose page is out of date (the
    token expired, the state changed since, or the wording version moved on). A stop only
    needs to be genuine and the member's."""
    slug = scope if isinstance(scope, str) else scope.slug
    try:
        payload = signing.unsign(TOGGLE_PURPOSE, token)
    except signing.TokenExpired as exc:
        if action != STOP:
            raise StaleRequest(OUT_OF_DATE) from None
        payload = exc.payload
    if (payload.get("m"), payload.get("s"), payload.get("c"), payload.get("a")) != (
        member_id,
        slug,
        channel,
        action,
    ):
        raise signing.TokenForged("token made for another request")
    if action == YES:
        state = states_of(member_id).get((slug, channel))
        current = state.event_id if state is not None else 0
        version = scope.consent_version if isinstance(scope, Scope) else None
        if current != payload.get("e") or version != payload.get("v"):
            raise StaleRequest(OUT_OF_DATE)
