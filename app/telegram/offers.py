"""The scopes the bot asks a member about, and the message that asks.

After linking (and on ``/start`` again) the bot sends, for each scope the member earned that
offers ``telegram`` and that has no standing yes on Telegram to its current words, one message:
the scope's title, what it is about, and its exact consent sentence (:attr:`Scope.wording`,
which a Yes records byte for byte), with Yes and No buttons.

The buttons carry ``y:<scope key>:<words key>`` and ``n:<scope key>`` (Telegram allows 64
bytes): the scope key is the first 10 hex digits of the SHA-256 of the slug, the words key the
first 10 of the wording's SHA-256. A Yes pressed under words that changed since is not recorded;
the bot sends the new words instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape
from typing import Any

from app.consent.ledger.consents import states_of
from app.consent.scopes import Scope, all_scopes
from app.consent.terms import Channel
from app.rewards.entitlements import holds

YES, NO = "Yes", "No"


def scope_key(slug: str) -> str:
    return hashlib.sha256(slug.encode()).hexdigest()[:10]


def words_key(scope: Scope) -> str:
    return scope.wording_hash[:10]


def open_offers(member_id: int) -> list[Scope]:
    """Earned scopes offering Telegram without a standing yes to their current words there."""
    states = states_of(member_id)
    found = []
    for scope in all_scopes().values():
        if Channel.TELEGRAM not in scope.channels or not holds(member_id, scope.reward):
            continue
        state = states.get((scope.slug, Channel.TELEGRAM))
        if (
            state is not None
            and state.granted
            and state.wording_version == scope.consent_version
            and state.wording_hash == scope.wording_hash
        ):
            continue
        found.append(scope)
    return found


def offer_message(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The text (Telegram HTML) and the Yes/No keyboard of one offer."""
    text = (
        f"<b>{escape(scope.title, quote=False)}</b>\n{escape(scope.about, quote=False)}\n\n"
        f"{escape(scope.wording, quote=False)}"
    )
    markup = {
        "inline_keyboard": [
            [
                {"text": YES, "callback_data": f"y:{scope_key(scope.slug)}:{words_key(scope)}"},
                {"text": NO, "callback_data": f"n:{scope_key(scope.slug)}"},
            ]
        ]
    }
    return text, markup


@dataclass(frozen=True)
class Answer:
    """A pressed Yes or No: the scope it names (None when no scope has that key any more) and,
    for a Yes, whether the words shown are still the scope's words."""

    yes: bool
    scope: Scope | None
    current_words: bool


def read_answer(data: str) -> Answer | None:
    """The Yes or No in a button's callback data, or None when it is neither."""
    parts = data.split(":")
    if parts[0] not in ("y", "n") or len(parts) != (3 if parts[0] == "y" else 2):
        return None
    scope = next((s for s in all_scopes().values() if scope_key(s.slug) == parts[1]), None)
    yes = parts[0] == "y"
    return Answer(yes, scope, scope is not None and (not yes or words_key(scope) == parts[2]))
