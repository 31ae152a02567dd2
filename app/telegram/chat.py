"""What the bot does with each update from Telegram.

In a private chat with the bot:

- ``/start <token>`` links the chat to the member the one-time token was issued to, then asks
  about each scope the member earned that offers Telegram (:mod:`app.telegram.offers`);
  ``/start`` in a linked chat asks again;
- Yes under an offer is a ledger grant with source ``telegram`` and the exact sentence shown;
  No records nothing (there was no yes to take back) and removes the buttons;
- Stop under a campaign's message, or ``/stop`` typed, revokes that scope on Telegram (the scope
  of the latest message the chat received); ``/stop all`` revokes every Telegram permission.
  Each revoke records the words the member pressed (the message's promise sentence and "Stop")
  or typed, exactly;
- ``/unlink`` forgets the chat; ``/help`` says who we are and what the commands do;
- any other text is a reply to the latest campaign message the chat received, and joins that
  campaign's conversation under *Admin → Conversations*.

:func:`handle_update` is idempotent by ``update_id`` (Telegram delivers an update again when an
answer was lost). It writes and commits first, then says what it has to say: nothing is said
about a change that did not commit, and no network call is made while a transaction is open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from app import clock
from app.consent import telegram as links
from app.consent.errors import ConsentError, TelegramLinkError
from app.consent.ledger.consents import Origin, grant_consent, revoke_consent, states_of
from app.consent.scopes import find_scope
from app.consent.terms import Channel, ConsentSource
from app.consent.words import said
from app.extensions import db
from app.notify import conversation
from app.notify.errors import ConversationError
from app.notify.models import Campaign, Delivery
from app.notify.telegram import PROMISE_PREFIX, STOP_BUTTON, STOP_PREFIX, promise_line
from app.outbound.botapi import BotApi, BotApiError, BotBlocked
from app.site.wiring import site_settings
from app.telegram import offers

log = logging.getLogger("pullfirst.telegram")

ORIGIN = Origin(ConsentSource.TELEGRAM, "telegram")
START = re.compile(r"^/start(?:@\w+)?(?:\s+([A-Za-z0-9_-]{1,64}))?\s*$")
COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+(.*))?$", re.S)


@dataclass
class Say:
    """What the bot says once the update's effects are committed."""

    chat_id: int
    text: str
    markup: dict[str, Any] | None = None


@dataclass
class Unbutton:
    """Remove the buttons of a message the member answered."""

    chat_id: int
    message_id: int


@dataclass
class Ack:
    """Answer a pressed button (Telegram shows ``text`` briefly)."""

    callback_query_id: str
    text: str | None = None


@dataclass
class Turn:
    """The bot's side of one update."""

    said: list[Say | Unbutton | Ack] = field(default_factory=list)

    def say(self, chat_id: int, text: str, markup: dict[str, Any] | None = None) -> None:
        self.said.append(Say(chat_id, text, markup))


def _site() -> str:
    return escape(site_settings().title, quote=False)


def _help() -> str:
    return (
        f"This is the bot of {_site()}. It writes to you only about what you said yes to here, "
        "within the promise each one makes.\n\n"
        "/stop: stop the last kind of message you got here\n"
        "/stop all: stop everything on Telegram\n"
        "/start: see what you can say yes to\n"
        "/unlink: unlink this chat from your account\n\n"
        "Anything else you write is a reply to the last message, read by our team."
    )


def _not_linked() -> str:
    return (
        f"This chat is not linked to an account of {_site()}. To link it, open "
        "<i>Permissions</i> on the site and press <i>Link Telegram</i>."
    )


def _offer_all(turn: Turn, member_id: int, chat_id: int) -> None:
    scopes = offers.open_offers(member_id)
    if not scopes:
        turn.say(chat_id, "There is nothing new to say yes to here for now.")
    for scope in scopes:
        text, markup = offers.offer_message(scope)
        turn.say(chat_id, text, markup)


# --- messages --------------------------------------------------------------------------------


def _message(turn: Turn, message: Mapping[str, Any], now: datetime) -> None:
    chat = message.get("chat") or {}
    chat_id, text = int(chat.get("id", 0)), str(message.get("text") or "").strip()
    if chat.get("type") != "private":
        return  # the bot speaks with one member at a time
    if not text:
        turn.say(chat_id, "I can only read text. " + "Send /help to see what I can do.")
        return
    start = START.match(text)
    member_id = links.member_of_chat(chat_id)
    if start and start.group(1):
        _link(turn, chat_id, start.group(1), message, now)
        return
    if member_id is None:
        turn.say(chat_id, _not_linked())
        return
    command = COMMAND.match(text)
    name = command.group(1).lower() if command else ""
    argument = (command.group(2) or "").strip().lower() if command else ""
    if start:
        _offer_all(turn, member_id, chat_id)
    elif name == "stop":
        _stop_typed(turn, member_id, chat_id, text, every=argument == "all", now=now)
    elif name == "unlink":
        links.unlink(member_id)
        turn.say(chat_id, "Unlinked. Nothing more comes here from us.")
    elif name == "help":
        turn.say(chat_id, _help())
    elif command:
        turn.say(chat_id, "I do not know that command. Send /help to see what I can do.")
    else:
        _reply(turn, member_id, chat_id, text, now)


def _link(turn: Turn, chat_id: int, token: str, message: Mapping[str, Any], now: datetime) -> None:
    username = (message.get("from") or {}).get("username")
    try:
        chat = links.link_chat(token, chat_id, username if isinstance(username, str) else None, now)
    except TelegramLinkError as exc:
        turn.say(chat_id, escape(str(exc), quote=False))
        return
    turn.say(
        chat_id,
        f"Linked to your account at {_site()}. I will only write about what you say yes to "
        "here. Send /help for what I can do.",
    )
    _offer_all(turn, chat.member_id, chat_id)


def _stop_typed(
    turn: Turn, member_id: int, chat_id: int, text: str, *, every: bool, now: datetime
) -> None:
    if every:
        stopped = [
            scope
            for (scope, channel), state in states_of(member_id).items()
            if channel == Channel.TELEGRAM
            and state.granted
            and revoke_consent(member_id, scope, Channel.TELEGRAM, ORIGIN, now, wording=text)
        ]
        turn.say(
            chat_id,
            "Stopped everything on Telegram." if stopped else "Nothing was on for Telegram.",
        )
        return
    delivery = conversation.latest_sent(member_id, Channel.TELEGRAM)
    if delivery is None:
        turn.say(chat_id, "You have not had a message here yet. To stop everything: /stop all")
        return
    campaign = db.session.get_one(Campaign, delivery.campaign_id)
    _stop_scope(turn, member_id, chat_id, delivery, campaign.scope, text, now)


def _stop_scope(
    turn: Turn,
    member_id: int,
    chat_id: int,
    delivery: Delivery,
    slug: str,
    wording: str,
    now: datetime,
) -> None:
    scope = find_scope(slug)
    title = scope.title if scope is not None else slug
    if revoke_consent(member_id, slug, Channel.TELEGRAM, ORIGIN, now, wording=wording):
        if delivery.unsubscribed_at is None:
            delivery.unsubscribed_at = now
        turn.say(chat_id, f"Stopped: no more {escape(title, quote=False)} on Telegram.")
    else:
        turn.say(chat_id, f"{escape(title, quote=False)} was already off on Telegram.")


def _reply(turn: Turn, member_id: int, chat_id: int, text: str, now: datetime) -> None:
    delivery = conversation.latest_sent(member_id, Channel.TELEGRAM)
    if delivery is None:
        turn.say(chat_id, "There is no message to reply to yet. Send /help to see what I can do.")
        return
    try:
        conversation.reply(delivery, text, now)
    except ConversationError as exc:
        turn.say(chat_id, escape(str(exc), quote=False))
        return
    turn.say(chat_id, "Thank you: our team reads every reply, and answers here.")


# --- buttons ---------------------------------------------------------------------------------


def _callback(turn: Turn, query: Mapping[str, Any], now: datetime) -> None:
    query_id = str(query.get("id", ""))
    message = query.get("message") or {}
    chat_id = int((message.get("chat") or {}).get("id", 0))
    message_id = int(message.get("message_id", 0))
    data = str(query.get("data") or "")
    member_id = links.member_of_chat(chat_id) if chat_id else None
    if member_id is None:
        turn.said.append(Ack(query_id, "This chat is not linked any more."))
        return
    if data.startswith(STOP_PREFIX):
        shown = str(message.get("text") or "")
        _stop_pressed(turn, member_id, chat_id, data.removeprefix(STOP_PREFIX), shown, now)
        turn.said.append(Ack(query_id))
        return
    answer = offers.read_answer(data)
    if answer is None or answer.scope is None:
        turn.said.append(Ack(query_id, "This question is not asked any more."))
        turn.said.append(Unbutton(chat_id, message_id))
        return
    scope = answer.scope
    if not answer.yes:
        turn.said.append(Ack(query_id, "Nothing recorded."))
        turn.said.append(Unbutton(chat_id, message_id))
        turn.say(chat_id, f"Fine: no {escape(scope.title, quote=False)} on Telegram.")
        return
    if not answer.current_words:
        turn.said.append(Ack(query_id, "These words changed: here they are again."))
        turn.said.append(Unbutton(chat_id, message_id))
        text, markup = offers.offer_message(scope)
        turn.say(chat_id, text, markup)
        return
    try:
        granted = grant_consent(member_id, scope, Channel.TELEGRAM, scope.wording, ORIGIN, now)
    except ConsentError as exc:
        turn.said.append(Ack(query_id, str(exc)[:200]))
        return
    turn.said.append(Ack(query_id, "Recorded: yes." if granted else "You already said yes."))
    turn.said.append(Unbutton(chat_id, message_id))
    turn.say(
        chat_id,
        f"Yes recorded for {escape(scope.title, quote=False)}: "
        f"{escape(scope.promise, quote=False)} Press Stop under any message, or send /stop, "
        "to stop.",
    )


def _stop_pressed(
    turn: Turn, member_id: int, chat_id: int, ref: str, shown: str, now: datetime
) -> None:
    delivery = db.session.get(Delivery, int(ref)) if ref.isdigit() else None
    if delivery is None or delivery.member_id != member_id:
        turn.say(
            chat_id, "That message is not one of yours any more. To stop everything: /stop all"
        )
        return
    campaign = db.session.get_one(Campaign, delivery.campaign_id)
    # The words the member pressed Stop under: the promise line of that message as Telegram
    # hands it back with the press (the scope's words may have changed since), then the button.
    line = shown.rstrip().rsplit("\n", 1)[-1]
    if not line.startswith(PROMISE_PREFIX):
        scope = find_scope(campaign.scope)
        line = promise_line(
            scope.title if scope is not None else campaign.scope,
            scope.promise if scope is not None else campaign.scope,
        )
    wording = said(line, STOP_BUTTON)
    _stop_scope(turn, member_id, chat_id, delivery, campaign.scope, wording, now)


# --- one update, start to end ----------------------------------------------------------------


def handle_update(update: Mapping[str, Any], now: datetime) -> Turn:
    """Act on one update and commit; returns what the bot has to say (see :func:`speak`).
    An update seen before does nothing."""
    turn = Turn()
    update_id = update.get("update_id")
    if not isinstance(update_id, int):
        return turn
    if not links.first_sight(update_id, now):
        db.session.rollback()
        return turn
    if isinstance(update.get("message"), Mapping):
        _message(turn, update["message"], now)
    elif isinstance(update.get("callback_query"), Mapping):
        _callback(turn, update["callback_query"], now)
    db.session.commit()
    return turn


def speak(api: BotApi, turn: Turn) -> None:
    """Say what the turn has to say. A refusal is logged, never raised: the update's effects
    are already recorded. A blocked bot marks the chat blocked."""
    for item in turn.said:
        try:
            if isinstance(item, Say):
                api.send_message(item.chat_id, item.text, reply_markup=item.markup)
            elif isinstance(item, Unbutton):
                api.edit_message_reply_markup(item.chat_id, item.message_id, None)
            else:
                api.answer_callback_query(item.callback_query_id, item.text)
        except BotBlocked as exc:
            log.warning("telegram: %s", exc)
            if isinstance(item, Say):
                links.mark_blocked(item.chat_id, clock.now())
                db.session.commit()
        except BotApiError as exc:
            log.warning("telegram: %s", exc)
