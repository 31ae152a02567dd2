"""What a text from a phone does: a carrier keyword, a reply, or nothing.

Keywords are honoured from the very first text, whatever came before: the whole message, in
any case, with the spaces around it ignored, is one of

- :data:`STOP_WORDS` (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, REVOKE): every
  ``sms`` permission of the number's member is revoked; the ledger keeps exactly what they
  typed. One confirmation answers a STOP that stopped something; after that, silence.
- :data:`START_WORDS` (START, UNSTOP, YES): what the latest STOP revoked is granted again, to
  the same words, and the answer says what is back on. A permission whose words changed since
  is not: the answer sends the member to the site to read them.
- :data:`HELP_WORDS` (HELP, INFO): who we are and how to stop, always answered.

Anything else from a member's number is a reply to the last text they got from a campaign and
joins that conversation; a reply that asks to stop in other words ("stop texting me") is not a
keyword, and is flagged for the team (:data:`SOUNDS_LIKE_STOP`). Every text that comes in is
logged (``sms_messages``), with the keyword it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from flask import current_app

from app.consent import phones, texts
from app.consent.errors import ConsentError
from app.consent.ledger.consents import (
    Origin,
    grant_consent,
    history,
    revoke_consent,
    states_of,
)
from app.consent.models import ConsentEvent, SmsMessage
from app.consent.scopes import find_scope
from app.consent.terms import Channel, ConsentSource
from app.notify import conversation
from app.notify.errors import ConversationError
from app.web.urls import external_url

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
SOUNDS_LIKE_STOP = re.compile(
    r"\b(stop|unsubscribe|opt[\s-]?out|cancel|remove\s+me|no\s+more|leave\s+me\s+alone|"
    r"don'?t\s+(text|message|contact|send))\b",
    re.IGNORECASE,
)
FLAG_STOP = "sounds-like-stop"
MAX_TEXT = 2_000


@dataclass
class Handled:
    """What a text did: its log row, and the answers to send once the caller committed."""

    logged: SmsMessage
    answers: list[SmsMessage] = field(default_factory=list)


def keyword_of(text: str) -> str | None:
    word = text.strip().upper()
    return word if word in STOP_WORDS | START_WORDS | HELP_WORDS else None


def read_number(raw: str) -> str | None:
    """The sender as E.164: Kannel passes what the SMS centre gave (``+447911123456``,
    ``447911123456`` or ``00447911123456``)."""
    digits = raw.strip()
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits and not digits.startswith("+"):
        digits = "+" + digits
    try:
        parsed = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _site() -> str:
    return str(current_app.config["BASE_URL"]).split("://", 1)[-1].rstrip("/")


def help_text() -> str:
    return (
        f"{texts.program()}: texts only about what you said yes to at {_site()}, never more "
        "often than promised. Reply STOP to cancel, START to undo a STOP. Msg & data rates "
        f"may apply. Your permissions: {external_url('consent.permissions_page')}"
    )


def _answer(
    handled: Handled, number: str, member_id: int | None, text: str, keyword: str, now: datetime
) -> None:
    handled.answers.append(texts.queue(number, member_id, "keyword", text, now, keyword))


def _stop(handled: Handled, number: str, member_id: int | None, typed: str, now: datetime) -> None:
    stopped = []
    if member_id is not None:
        origin = Origin(ConsentSource.SMS, page=None, typed=typed)
        for (slug, channel), state in states_of(member_id).items():
            if channel != Channel.SMS or not state.granted:
                continue
            if revoke_consent(member_id, slug, Channel.SMS, origin, now, wording=typed):
                scope = find_scope(slug)
                stopped.append(scope.title if scope else slug)
    if stopped:
        _answer(
            handled,
            number,
            member_id,
            f"{texts.program()}: you will get no more texts from us ({', '.join(stopped)}). "
            "Reply START to undo.",
            "STOP",
            now,
        )


def _last_stop(events: list[ConsentEvent]) -> list[tuple[ConsentEvent, ConsentEvent | None]]:
    """The revokes of the member's latest STOP by text (the newest run of ``sms`` revokes with
    a typed keyword, made at one moment), each with the grant it ended; ``events`` is the
    member's ledger history, newest first."""
    stops = [
        e
        for e in events
        if e.channel == Channel.SMS
        and e.source == ConsentSource.SMS
        and e.typed is not None
        and e.action == "revoke"
        and (keyword_of(e.typed) or "") in STOP_WORDS
    ]
    latest = [e for e in stops if e.at == stops[0].at] if stops else []
    return [
        (
            revoke,
            next(
                (
                    e
                    for e in events
                    if (e.scope, e.channel, e.action) == (revoke.scope, revoke.channel, "grant")
                    and e.id < revoke.id
                ),
                None,
            ),
        )
        for revoke in latest
    ]


def _start(handled: Handled, number: str, member_id: int | None, typed: str, now: datetime) -> None:
    if member_id is None:
        _answer(
            handled,
            number,
            None,
            f"{texts.program()}: this number is not on our list. "
            f"To get texts, say yes at {_site()}.",
            "START",
            now,
        )
        return
    states = states_of(member_id)
    back, changed = [], []
    origin = Origin(ConsentSource.SMS, typed=typed)
    for revoke, grant in _last_stop(history(member_id)):
        state = states.get((revoke.scope, Channel.SMS))
        if state is None or state.granted or state.event_id != revoke.id:
            continue  # answered again since the STOP
        scope = find_scope(revoke.scope)
        if scope is None or grant is None:
            continue
        if grant.wording_hash != scope.wording_hash_for(Channel.SMS):
            changed.append(scope.title)
            continue
        shown = scope.wording_for(Channel.SMS)  # the words of the grant STOP ended, unchanged
        try:
            if grant_consent(member_id, scope, Channel.SMS, shown, origin, now):
                back.append(f"{scope.title}, to the words you said yes to: \u201c{shown}\u201d")
        except ConsentError:
            continue
    words = []
    if back:
        words.append(f"texts are back on: {'; '.join(back)}.")
    if changed:
        words.append(
            f"what we ask for changed since ({', '.join(changed)}): read it and say "
            f"yes at {external_url('consent.permissions_page')}"
        )
    if not words:
        words.append(f"there was nothing to start again. Say yes to texts at {_site()}.")
    _answer(handled, number, member_id, f"{texts.program()}: " + " ".join(words), "START", now)


def handle_text(
    sender: str, text: str, now: datetime, gateway_id: str | None = None
) -> Handled | None:
    """Act on a text from ``sender``; None when the sender is not a phone number. A text
    whose ``gateway_id`` (Kannel's id) was seen before does nothing again. The caller commits,
    then sends ``answers``."""
    number = read_number(sender)
    if number is None:
        return None
    gateway_id = (gateway_id or "")[:64] or None
    if gateway_id is not None and (seen := texts.seen_inbound(gateway_id)) is not None:
        return Handled(seen)
    text = text[:MAX_TEXT]
    member_id = phones.member_of_number(number)
    keyword = keyword_of(text)
    kind = "keyword" if keyword else "reply"
    delivery = (
        conversation.latest_sent(member_id, Channel.SMS)
        if member_id is not None and not keyword
        else None
    )
    if not keyword and delivery is None:
        kind = "unread"
    handled = Handled(texts.log_inbound(number, member_id, kind, text, now, keyword, gateway_id))
    if keyword in STOP_WORDS:
        _stop(handled, number, member_id, text, now)
    elif keyword in START_WORDS:
        _start(handled, number, member_id, text, now)
    elif keyword in HELP_WORDS:
        _answer(handled, number, member_id, help_text(), "HELP", now)
    elif delivery is not None:
        try:
            reply = conversation.reply(delivery, text, now)
        except ConversationError:
            handled.logged.kind = "unread"
        else:
            if SOUNDS_LIKE_STOP.search(text):
                reply.flag = FLAG_STOP
    return handled
