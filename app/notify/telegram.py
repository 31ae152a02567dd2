"""The ``telegram`` channel: a campaign as a message from the site's bot in the member's chat.

The campaign's HTML (sanitized, with this delivery's tracked links, the same as email's) becomes
Telegram's HTML subset: headings and strong text bold, emphasis italic, links, code, quotes;
paragraphs and list items as lines. Under the text, two buttons: "Why did I get this?" (the
same page every message links to) and "Stop" (the bot revokes this scope on Telegram). A text
longer than Telegram's 4,096 characters ends with a link to the whole message in the inbox.

The Bot API allows a bot about 30 messages a second and one a second per chat: the channel
spaces its sends to ``TELEGRAM_MESSAGES_PER_SECOND`` and to one a second per chat. Telegram's
answers map to the notifier's failures: 429 is :class:`ChannelDown` with the ``retry_after``
Telegram asked for; no answer or a 5xx is :class:`ChannelDown`; 403 (the member blocked the
bot) marks the chat blocked and is :class:`EndpointGone`; any other refusal is final.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from html import escape
from html.parser import HTMLParser

from app import clock
from app.consent.telegram import mark_blocked
from app.consent.terms import Channel
from app.extensions import db
from app.notify.channels import Outgoing
from app.notify.errors import ChannelDown, EndpointGone, SendFailed
from app.outbound.botapi import (
    BotApi,
    BotApiError,
    BotApiUnreachable,
    BotBlocked,
    TooManyRequests,
)

MAX_TEXT = 4096
WHY_BUTTON, STOP_BUTTON = "Why did I get this?", "Stop"
STOP_PREFIX = "stop:"  # callback data of the Stop button: "stop:<delivery id>"

_SPACE = re.compile(r"\s+")
_BOLD = {"b", "strong", "h1", "h2", "h3", "h4", "h5", "h6"}
_ITALIC = {"i", "em"}
_KEEP = {"u", "s", "del", "code", "pre", "blockquote"}
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "table", "tr"}


class _TelegramHTML(HTMLParser):
    """Sanitized HTML to the tags Telegram allows, each closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # Telegram tags open, innermost last
        self.pre = 0
        self.hidden = 0  # inside a link to a place on the page (a heading's own anchor)

    def _tag(self, name: str, attrs: str = "") -> None:
        self.out.append(f"<{name}{attrs}>")
        self.open.append(name)

    def _close(self, name: str) -> None:
        if name in self.open:
            while self.open:
                inner = self.open.pop()
                self.out.append(f"</{inner}>")
                if inner == name:
                    break

    def _break(self, lines: int) -> None:
        text = "".join(self.out).rstrip(" ")
        if text and not text.endswith("\n" * lines):
            self.out.append("\n" * (lines - (1 if text.endswith("\n") else 0)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break(2)
        if tag in _BOLD:
            self._tag("b")
        elif tag in _ITALIC:
            self._tag("i")
        elif tag in _KEEP:
            self._tag(tag)
            self.pre += tag == "pre"
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("https://", "http://")):
                self._tag("a", f' href="{escape(href, quote=True)}"')
            elif href.startswith("#"):
                self.hidden += 1
        elif tag == "li":
            self._break(1)
            self.out.append("• ")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(escape(f"[{alt}]", quote=False))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BOLD:
            self._close("b")
        elif tag in _ITALIC:
            self._close("i")
        elif tag in _KEEP:
            self._close(tag)
            self.pre -= tag == "pre"
        elif tag == "a":
            if self.hidden:
                self.hidden -= 1
            else:
                self._close("a")
        if tag in _BLOCKS:
            self._break(2)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.pre:
            data = _SPACE.sub(" ", data)
        self.out.append(escape(data, quote=False))

    def result(self) -> str:
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        lines = "".join(self.out).split("\n")
        return "\n".join(line.strip(" ") for line in lines).strip()


def telegram_html(html: str) -> str:
    """``html`` (sanitized) in the HTML subset Telegram's ``parse_mode=HTML`` accepts."""
    parser = _TelegramHTML()
    parser.feed(html)
    parser.close()
    return parser.result()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.length = 0

    def handle_data(self, data: str) -> None:
        self.length += len(data)


def _visible_length(text: str) -> int:
    """Characters Telegram counts: the text without its tags, entities as one character."""
    parser = _Text()
    parser.feed(text)
    parser.close()
    return parser.length


PROMISE_PREFIX = "You said yes to "


def promise_line(title: str, promise: str) -> str:
    """The last line of every campaign message: the scope and the promise it was sent under."""
    return f"{PROMISE_PREFIX}{title}: {promise}"


def message_text(item: Outgoing) -> str:
    """The message: its title in bold, the body, and the promise it was sent under."""
    title = f"<b>{escape(item.title, quote=False)}</b>"
    footer = f"<i>{escape(promise_line(item.scope_title, item.promise), quote=False)}</i>"
    body = telegram_html(item.html)
    text = f"{title}\n\n{body}\n\n{footer}"
    if _visible_length(text) <= MAX_TEXT:
        return text
    more = f'\n\n<a href="{escape(item.inbox_url, quote=True)}">Read the whole message</a>'
    plain = escape(item.text, quote=False)
    room = MAX_TEXT - _visible_length(title + more) - 8
    return f"{title}\n\n{plain[:room].rstrip()} …{more}"


def buttons(item: Outgoing) -> dict[str, object]:
    return {
        "inline_keyboard": [
            [
                {"text": WHY_BUTTON, "url": item.why_url},
                {"text": STOP_BUTTON, "callback_data": f"{STOP_PREFIX}{item.delivery_id}"},
            ]
        ]
    }


class Pacer:
    """Spaces sends: at most ``per_second`` in all, and one a second per chat."""

    def __init__(
        self,
        per_second: float,
        *,
        per_chat: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval, self.per_chat = 1.0 / per_second, per_chat
        self.monotonic, self.sleep = monotonic, sleep
        self.last = float("-inf")
        self.last_in_chat: dict[int, float] = {}

    def wait(self, chat_id: int) -> None:
        now = self.monotonic()
        ready = max(
            self.last + self.interval, self.last_in_chat.get(chat_id, -1e18) + self.per_chat
        )
        if ready > now:
            self.sleep(ready - now)
            now = ready
        self.last = now
        self.last_in_chat[chat_id] = now
        if len(self.last_in_chat) > 10_000:  # forget chats long done
            horizon = now - self.per_chat
            self.last_in_chat = {c: t for c, t in self.last_in_chat.items() if t > horizon}


class TelegramChannel:
    name = Channel.TELEGRAM

    def __init__(self, api: BotApi, pacer: Pacer) -> None:
        self.api, self.pacer = api, pacer

    def send(self, item: Outgoing) -> str:
        if item.chat_id is None:
            raise SendFailed("no linked Telegram chat", temporary=False)
        self.pacer.wait(item.chat_id)
        try:
            sent = self.api.send_message(
                item.chat_id, message_text(item), reply_markup=buttons(item)
            )
        except TooManyRequests as exc:
            wait = timedelta(seconds=exc.retry_after or 1)
            raise ChannelDown(str(exc), Channel.TELEGRAM, wait) from None
        except BotApiUnreachable as exc:
            raise ChannelDown(str(exc), Channel.TELEGRAM) from None
        except BotBlocked as exc:
            mark_blocked(item.chat_id, clock.now())
            db.session.flush()
            raise EndpointGone(f"Telegram: {exc.description}") from None
        except BotApiError as exc:
            raise SendFailed(f"Telegram refused the message: {exc}", temporary=False) from None
        return str(sent["message_id"])

    def close(self) -> None:
        self.api.close()
