"""A Bot API peer: a real local HTTP server that answers like api.telegram.org for the methods
Pullfirst uses, refuses what Telegram refuses, and records what it received.

It serves ``/bot<token>/<method>`` (GET or POST; query string, JSON, urlencoded or multipart
bodies) with ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": N, "description":
…}``: 401 ``Unauthorized`` for another token, 404 ``Not Found`` for an unknown method, 400
``Bad Request: …`` for a parameter the published signature does not allow, 403 for a chat that
blocked the bot, 429 with ``parameters.retry_after`` when throttled. It is stricter than Telegram
in one way: an unknown parameter is refused instead of ignored, so a misspelt one cannot pass.

Tests play the user's side (:meth:`BotApiPeer.user_sends`, :meth:`~BotApiPeer.user_presses`,
:meth:`~BotApiPeer.block`, :meth:`~BotApiPeer.throttle`, :meth:`~BotApiPeer.deliver_updates`)
and inspect the state (:attr:`~BotApiPeer.requests`, :meth:`~BotApiPeer.messages`,
:attr:`~BotApiPeer.sticker_sets`, :meth:`~BotApiPeer.max_sends_per_second`…).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import emoji
from PIL import Image, UnidentifiedImageError

TOKEN = "7100200300:AAHpeer-test-token_0123456789abcdefABCD"
BOT_USERNAME = "pullfirst_test_bot"
MAX_TEXT = 4096
MAX_STICKER_BYTES = 512 * 1024
MAX_STICKERS_AT_CREATION = 50
MAX_STICKERS_IN_SET = 120
SET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
UPDATE_TYPES = frozenset(
    [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    ]
)


class Refused(Exception):
    """An answer other than ``ok``: becomes ``{"ok": false, …}`` with this status."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad(description: str) -> Refused:
    return Refused(400, f"Bad Request: {description}")


# --- published signatures ------------------------------------------------------------------
# Parameter kinds: int, str, chat (Integer or String), bool, object / array (JSON-serialized),
# file (an uploaded InputFile). A trailing "!" marks a required parameter.

SIGNATURES: dict[str, dict[str, str]] = {
    "getMe": {},
    "sendMessage": {
        "business_connection_id": "str",
        "chat_id": "chat!",
        "message_thread_id": "int",
        "direct_messages_topic_id": "int",
        "text": "str!",
        "parse_mode": "str",
        "entities": "array",
        "link_preview_options": "object",
        "disable_notification": "bool",
        "protect_content": "bool",
        "allow_paid_broadcast": "bool",
        "message_effect_id": "str",
        "suggested_post_parameters": "object",
        "reply_parameters": "object",
        "reply_markup": "object",
    },
    "editMessageReplyMarkup": {
        "business_connection_id": "str",
        "chat_id": "chat",
        "message_id": "int",
        "inline_message_id": "str",
        "reply_markup": "object",
    },
    "answerCallbackQuery": {
        "callback_query_id": "str!",
        "text": "str",
        "show_alert": "bool",
        "url": "str",
        "cache_time": "int",
    },
    "getUpdates": {"offset": "int", "limit": "int", "timeout": "int", "allowed_updates": "array"},
    "setWebhook": {
        "url": "str!",
        "certificate": "file",
        "ip_address": "str",
        "max_connections": "int",
        "allowed_updates": "array",
        "drop_pending_updates": "bool",
        "secret_token": "str",
    },
    "deleteWebhook": {"drop_pending_updates": "bool"},
    "getWebhookInfo": {},
    "uploadStickerFile": {"user_id": "int!", "sticker": "file!", "sticker_format": "str!"},
    "createNewStickerSet": {
        "user_id": "int!",
        "name": "str!",
        "title": "str!",
        "stickers": "array!",
        "sticker_type": "str",
        "needs_repainting": "bool",
    },
    "addStickerToSet": {"user_id": "int!", "name": "str!", "sticker": "object!"},
    "deleteStickerFromSet": {"sticker": "str!"},
    "setStickerPositionInSet": {"sticker": "str!", "position": "int!"},
    "getStickerSet": {"name": "str!"},
}
METHODS = {name.lower(): name for name in SIGNATURES}
INPUT_STICKER = {"sticker", "format", "emoji_list", "mask_position", "keywords"}
BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}


def coerce(name: str, kind: str, value: Any, typed: bool) -> Any:
    """``value`` as the kind the signature names. ``typed`` values came in a JSON body; the
    others are strings from a form or query string, as Telegram accepts them."""
    if kind == "file":
        if not isinstance(value, bytes):
            raise bad(f"parameter {name} must be an uploaded file")
        return value
    if isinstance(value, bytes):
        raise bad(f"parameter {name} can't be a file")
    if kind in ("object", "array"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad(f"can't parse {name} JSON object") from None
        wanted = dict if kind == "object" else list
        if not isinstance(value, wanted):
            raise bad(f'field "{name}" must be {"an Object" if kind == "object" else "an Array"}')
        return value
    if kind == "bool":
        if typed and isinstance(value, bool):
            return value
        if not typed and value in ("true", "false", "True", "False", "1", "0"):
            return value in ("true", "True", "1")
        raise bad(f'field "{name}" must be of type Boolean')
    if kind in ("int", "chat"):
        if typed and isinstance(value, int) and not isinstance(value, bool):
            return value
        if not typed and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        if kind == "chat" and isinstance(value, str) and value.startswith("@"):
            return value
        raise bad(f'field "{name}" must be of type {"Integer" if kind == "int" else "Chat"}')
    if not isinstance(value, str):
        raise bad(f'field "{name}" must be of type String')
    return value


def check_signature(
    method: str, given: dict[str, Any], typed: set[str], files: dict[str, bytes]
) -> dict[str, Any]:
    """The parameters of ``method`` coerced to their kinds, or :class:`Refused` for a missing,
    mistyped or unknown one. Files named like a parameter are that parameter; other file parts
    are attachments (``attach://<name>``)."""
    signature = SIGNATURES[method]
    for name in given:
        if name not in signature:
            raise bad(f"unknown parameter {name}")
    checked = {}
    for name, spec in signature.items():
        kind, required = spec.rstrip("!"), spec.endswith("!")
        if name in files:
            value = files[name]
        elif name in given:
            value = given[name]
        elif required:
            raise bad(f"parameter {name} is required")
        else:
            continue
        checked[name] = coerce(name, kind, value, name in typed)
    return checked


# --- Telegram HTML --------------------------------------------------------------------------

HTML_TAGS: dict[str, dict[str, re.Pattern[str] | None]] = {
    # tag -> allowed attributes (pattern the value must match; None: any value, e.g. href)
    "b": {},
    "strong": {},
    "i": {},
    "em": {},
    "u": {},
    "ins": {},
    "s": {},
    "strike": {},
    "del": {},
    "tg-spoiler": {},
    "span": {"class": re.compile(r"tg-spoiler")},
    "a": {"href": None},
    "code": {"class": re.compile(r"language-[\w+#-]+")},
    "pre": {},
    "blockquote": {"expandable": re.compile(r"|expandable")},
    "tg-emoji": {"emoji-id": re.compile(r"\d+")},
}
REQUIRED_ATTRIBUTE = {"span": "class", "a": "href", "tg-emoji": "emoji-id"}
TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
ATTRIBUTE = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
ENTITY = re.compile(r"&(?:(lt|gt|amp|quot);|#(\d{1,7});|#[xX]([0-9A-Fa-f]{1,6});)")
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> str:
    """The plain text of a message in Telegram's HTML, or :class:`Refused` "can't parse
    entities" for a tag, attribute or entity Telegram does not support, or unbalanced tags."""
    out: list[str] = []
    open_tags: list[str] = []
    position = 0

    def fail(reason: str, at: int) -> Refused:
        offset = len(text[:at].encode())
        return bad(f"can't parse entities: {reason} at byte offset {offset}")

    while position < len(text):
        char = text[position]
        if char == "<":
            tag = TAG.match(text, position)
            if tag is None:
                raise fail("unexpected '<' (write &lt;)", position)
            closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
            if name not in HTML_TAGS:
                raise fail(f'Unsupported start tag "{name}"', position)
            if closing:
                if not open_tags or open_tags[-1] != name:
                    raise fail(f'Unexpected end tag "{name}"', position)
                open_tags.pop()
            else:
                found = {}
                for attribute in ATTRIBUTE.finditer(attributes):
                    key = attribute.group(1).lower()
                    value = next((v for v in attribute.groups()[1:] if v is not None), "")
                    allowed = HTML_TAGS[name]
                    if key not in allowed:
                        raise fail(f'Unsupported attribute "{key}" of tag "{name}"', position)
                    pattern = allowed[key]
                    if pattern is not None and not pattern.fullmatch(value):
                        raise fail(f'Unsupported value of attribute "{key}"', position)
                    found[key] = value
                needed = REQUIRED_ATTRIBUTE.get(name)
                if needed and needed not in found:
                    raise fail(f'Tag "{name}" must have attribute "{needed}"', position)
                if name == "code" and "class" in found and open_tags[-1:] != ["pre"]:
                    raise fail("a code language is allowed only inside pre", position)
                open_tags.append(name)
            position = tag.end()
        elif char == "&":
            entity = ENTITY.match(text, position)
            if entity is None:
                raise fail("unsupported HTML entity (write &amp;)", position)
            named, decimal, hexadecimal = entity.groups()
            out.append(
                NAMED[named]
                if named
                else chr(int(decimal or hexadecimal, 16 if hexadecimal else 10))
            )
            position = entity.end()
        elif char == ">":
            raise fail("unexpected '>' (write &gt;)", position)
        else:
            out.append(char)
            position += 1
    if open_tags:
        raise fail(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"', len(text))
    return "".join(out)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_text(text: str, parse_mode: str | None) -> str:
    if parse_mode in (None, ""):
        plain = text
    elif parse_mode == "HTML":
        plain = parse_html(text)
    else:
        # MarkdownV2 exists in Telegram; this peer does not parse it, so it refuses it loudly.
        raise bad(f"unsupported parse_mode {parse_mode!r} (the peer parses only HTML)")
    if not plain.strip():
        raise bad("message text is empty")
    if utf16_length(plain) > MAX_TEXT:
        raise bad("message is too long")
    return plain


def check_reply_markup(markup: dict[str, Any]) -> None:
    if set(markup) != {"inline_keyboard"}:
        raise bad("the peer accepts only InlineKeyboardMarkup as reply_markup")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad("InlineKeyboardButton must be an Object")
            unknown = set(button) - BUTTON_ACTIONS - {"text"}
            if unknown:
                raise bad(f"unknown InlineKeyboardButton field {sorted(unknown)[0]}")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise bad("BUTTON_TEXT_INVALID")
            actions = set(button) & BUTTON_ACTIONS
            if not actions:
                raise bad("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad("BUTTON_TYPE_INVALID: a button has exactly one action")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                    raise bad("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                parts = urlsplit(url) if isinstance(url, str) else None
                if (
                    parts is None
                    or parts.scheme not in ("http", "https", "tg")
                    or (parts.scheme != "tg" and not parts.netloc)
                ):
                    raise bad("BUTTON_URL_INVALID")


# --- stickers -------------------------------------------------------------------------------


def check_set_name(name: str, bot_username: str) -> None:
    suffix = f"_by_{bot_username}".lower()
    if (
        not 1 <= len(name) <= 64
        or not SET_NAME.fullmatch(name)
        or "__" in name
        or not name.lower().endswith(suffix)
        or len(name) == len(suffix)
    ):
        raise bad("invalid sticker set name is specified")


def check_title(title: str) -> None:
    if not 1 <= len(title) <= 64:
        raise bad("STICKERSET_TITLE_INVALID: the title must be 1-64 characters")


def check_sticker_image(data: bytes) -> tuple[int, int, str]:
    """(width, height, format) of a static sticker, or :class:`Refused`."""
    if not data:
        raise bad("file must be non-empty")
    if len(data) > MAX_STICKER_BYTES:
        raise bad("file is too big: a static sticker is at most 512 KB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height, kind = image.width, image.height, image.format or ""
    except (UnidentifiedImageError, OSError):
        raise bad("STICKER_FILE_INVALID: not a WebP or PNG image") from None
    if kind not in ("WEBP", "PNG"):
        raise bad(f"STICKER_FILE_INVALID: a static sticker is WebP or PNG, not {kind}")
    if max(width, height) != 512 or min(width, height) < 1:
        raise bad("STICKER_PNG_DIMENSIONS: one side must be 512 px and the other at most 512")
    return width, height, kind


@dataclass
class Upload:
    file_id: str
    file_unique_id: str
    data: bytes
    width: int
    height: int
    format: str
    user_id: int


@dataclass
class SetSticker:
    file_id: str
    file_unique_id: str
    emoji_list: list[str]
    upload: Upload


@dataclass
class StickerSet:
    name: str
    title: str
    owner: int
    stickers: list[SetSticker] = field(default_factory=list)


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    text: str  # the plain text the user sees
    html: str  # what the bot sent
    reply_markup: dict[str, Any] | None
    at: float


@dataclass
class Received:
    """One request as the peer received it (``params`` decoded; files as bytes)."""

    method: str
    params: dict[str, Any]
    at: float
    client: tuple[str, int]
    status: int = 0
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None
    blocked: bool = False

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


Post = Callable[[str, bytes, dict[str, str]], int]


def read_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """The fields and the files of a multipart/form-data body."""
    header = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise bad("multipart body without a boundary")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = BytesParser(policy=policy.HTTP).parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise bad("a multipart part without a name")
        content = content.removesuffix(b"\r\n")
        if headers.get_filename() is not None:
            files[name] = content
        else:
            fields[name] = content.decode()
    return fields, files


class BotApiPeer:
    """The local Bot API. Start it with ``with BotApiPeer() as peer`` (or the ``bot_api``
    fixture); point the product at :attr:`base` with :attr:`token`.

    ``enforce_rate`` answers 429 (``retry_after`` 1) to a second message to a chat within a
    second or a 31st message within a second overall, as Telegram may; without it the rates are
    only recorded (:meth:`max_sends_per_second`). ``allow_http_webhooks`` lets ``setWebhook``
    take a plain-http URL on any port (Telegram demands https on 443, 80, 88 or 8443)."""

    def __init__(
        self,
        token: str = TOKEN,
        bot_username: str = BOT_USERNAME,
        *,
        enforce_rate: bool = False,
        allow_http_webhooks: bool = False,
    ) -> None:
        self.token = token
        self.bot: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Pullfirst",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.enforce_rate = enforce_rate
        self.allow_http_webhooks = allow_http_webhooks
        self.users: dict[int, User] = {}
        self.sent: list[SentMessage] = []
        self.uploads: dict[str, Upload] = {}
        self.sticker_sets: dict[str, StickerSet] = {}
        self.webhook: dict[str, Any] | None = None
        self.updates: list[dict[str, Any]] = []
        self.requests: list[Received] = []
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, str | None] = {}
        self.deliveries: list[tuple[int, int]] = []
        self.errors: list[str] = []
        self._allowed_updates: list[str] | None = None
        self._throttles: list[tuple[int | None, int]] = []
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._update_ids = itertools.count(700_000_001)
        self._callback_ids = itertools.count(4_382_000_000_000_000_001)
        self._file_numbers = itertools.count(1)
        self._poll_generation = 0
        #: How many getUpdates calls are waiting for an update right now.
        self.waiting_polls = 0
        self._stopping = False
        self._state = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ------------------------------------------------------------------------------

    def start(self) -> BotApiPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as api.telegram.org
            timeout = 2
            disable_nagle_algorithm = True  # headers and body go out at once, no ACK stall

            def do_POST(self) -> None:
                peer._serve(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = False  # close() joins every connection: no stray threads

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-request is not the test's business

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        with self._state:
            self._stopping = True
            self._state.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> BotApiPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base(self) -> str:
        """What ``TELEGRAM_API_BASE`` should be: ``http://127.0.0.1:<port>``."""
        assert self._server is not None, "start the peer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, method: str, token: str | None = None) -> str:
        return f"{self.base}/bot{token or self.token}/{method}"

    # --- the user's side -------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str = "Ada", username: str | None = None) -> User:
        """A Telegram user with a private chat (chat id = user id) with the bot."""
        with self._state:
            user = self.users[user_id] = User(user_id, first_name, username)
            return user

    def user_sends(self, user_id: int, text: str) -> dict[str, Any]:
        """Queue the user's message (``/start <payload>`` included) as an update. A user who had
        blocked the bot unblocks it by writing, as Telegram's Restart button does."""
        with self._state:
            user = self._user(user_id)
            user.blocked = False
            message: dict[str, Any] = {
                "message_id": self._next_message_id(user_id),
                "from": user.as_user(),
                "chat": user.as_chat(),
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
                ]
            return self._queue({"message": message})

    def user_presses(self, user_id: int, message_id: int, callback_data: str) -> dict[str, Any]:
        """Queue a callback_query update for a button the bot really showed this user; the
        query's id (``update["callback_query"]["id"]``) is then answerable."""
        with self._state:
            user = self._user(user_id)
            message = self._message(user_id, message_id)
            assert message is not None, f"no message {message_id} in chat {user_id}"
            buttons = [
                button
                for row in (message.reply_markup or {}).get("inline_keyboard", [])
                for button in row
            ]
            assert any(b.get("callback_data") == callback_data for b in buttons), (
                f"message {message_id} has no button with callback_data {callback_data!r}"
            )
            query_id = str(next(self._callback_ids))
            self.callback_queries[query_id] = {"user_id": user_id, "message_id": message_id}
            return self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": user.as_user(),
                        "message": self._message_json(message),
                        "chat_instance": str(-user_id),
                        "data": callback_data,
                    }
                }
            )

    def block(self, user_id: int) -> None:
        """The user blocks the bot: every message to their chat answers 403."""
        with self._state:
            self._user(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        with self._state:
            self._user(user_id).blocked = False

    def throttle(self, chat_id: int | None, retry_after: int) -> None:
        """The next sendMessage (to ``chat_id``, or to any chat with ``None``) answers 429."""
        with self._state:
            self._throttles.append((chat_id, retry_after))

    def deliver_updates(self, post: Post | None = None) -> list[int]:
        """POST the queued updates, in order, to the webhook with the secret header, as
        Telegram does; an update answered 2xx is done, the first other answer stops the round
        (Telegram retries later). ``post(url, body, headers) -> status`` replaces the HTTP POST
        (e.g. to go through Flask's test client). Returns the statuses, also in
        :attr:`deliveries` as ``(update_id, status)``."""
        with self._state:
            assert self.webhook is not None, "no webhook is set"
            webhook = dict(self.webhook)
            pending = self._take_allowed(webhook["allowed_updates"])
        send = post or http_post
        statuses = []
        for update in pending:
            headers = {"Content-Type": "application/json"}
            if webhook["secret_token"]:
                headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
            status = send(webhook["url"], json.dumps(update).encode(), headers)
            statuses.append(status)
            with self._state:
                self.deliveries.append((update["update_id"], status))
                if not 200 <= status < 300:
                    break
                self.updates.remove(update)
        return statuses

    # --- what a test inspects --------------------------------------------------------------

    def calls(self, method: str) -> list[Received]:
        with self._state:
            return [r for r in self.requests if r.method == method]

    def messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (to ``chat_id``), oldest first."""
        with self._state:
            return [m for m in self.sent if chat_id is None or m.chat_id == chat_id]

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """``time.monotonic()`` of every message the peer accepted (to ``chat_id``)."""
        return [m.at for m in self.messages(chat_id)]

    def max_sends_per_second(self, chat_id: int | None = None) -> int:
        """The most messages accepted in any one-second window (to ``chat_id``): Telegram
        allows about 1 a second per chat and 30 a second overall."""
        times = sorted(self.send_times(chat_id))
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def clients(self) -> set[tuple[str, int]]:
        """The distinct client (address, port) pairs: one per kept-alive connection."""
        with self._state:
            return {r.client for r in self.requests}

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._state:
            return list(self.updates)

    # --- serving ---------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        received = Received("", {}, time.monotonic(), handler.client_address[:2])
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length) if length else b""
            route = re.fullmatch(r"/bot([^/]*)/([A-Za-z]+)", urlsplit(handler.path).path)
            if route is None:
                raise Refused(404, "Not Found")
            if route.group(1) != self.token:
                raise Refused(401, "Unauthorized")
            method = METHODS.get(route.group(2).lower())
            if method is None:
                raise Refused(404, "Not Found")
            received.method = method
            given, typed, files = self._read_params(handler, body)
            received.params = {**given, **files}
            with self._state:
                self.requests.append(received)
            params = check_signature(method, given, typed, files)
            result = getattr(self, f"_{method}")(params, files)
            status, answer = 200, {"ok": True, "result": result}
        except Refused as refused:
            status = refused.code
            answer = {"ok": False, "error_code": refused.code, "description": refused.description}
            if refused.parameters:
                answer["parameters"] = refused.parameters
        except Exception as error:  # a bug in the peer: make it visible to the test
            self.errors.append(repr(error))
            status, answer = 500, {"ok": False, "error_code": 500, "description": repr(error)}
        received.status, received.answer = status, answer
        if not received.method:
            with self._state:
                self.requests.append(received)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _read_params(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[dict[str, Any], set[str], dict[str, bytes]]:
        given: dict[str, Any] = dict(parse_qsl(urlsplit(handler.path).query))
        typed: set[str] = set()
        files: dict[str, bytes] = {}
        content_type = handler.headers.get("Content-Type") or ""
        kind = content_type.split(";")[0].strip().lower()
        if not body:
            pass
        elif kind == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad("can't parse JSON object") from None
            if not isinstance(decoded, dict):
                raise bad("the JSON body must be an object")
            given.update(decoded)
            typed.update(decoded)
        elif kind == "application/x-www-form-urlencoded":
            given.update(parse_qsl(body.decode()))
        elif kind == "multipart/form-data":
            fields, files = read_multipart(content_type, body)
            given.update(fields)
        else:
            raise bad(f"unsupported Content-Type {kind!r}")
        return given, typed, files

    # --- state helpers (called with self._state held) --------------------------------------

    def _user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        assert user is not None, f"add_user({user_id}) first"
        return user

    def _chat(self, chat_id: int | str) -> User:
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad("chat not found")
        return user

    def _known_user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise bad("user not found")
        return user

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return next(
            (m for m in self.sent if m.chat_id == chat_id and m.message_id == message_id), None
        )

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot,
            "chat": self.users[message.chat_id].as_chat(),
            "date": int(time.time()),
            "text": message.text,
        }
        if message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    def _queue(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._state.notify_all()
        return update

    def _take_allowed(self, allowed: list[str] | None) -> list[dict[str, Any]]:
        """The queued updates of the allowed types; the others are dropped, as Telegram never
        queues them. An empty or absent list means every type but the chat_member and
        message_reaction kinds."""
        if allowed:
            wanted = set(allowed)
        else:
            wanted = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
        self.updates = [u for u in self.updates if wanted & set(u)]
        return list(self.updates)

    def _check_allowed_updates(self, allowed: list[Any]) -> list[str]:
        for kind in allowed:
            if kind not in UPDATE_TYPES:
                raise bad(f"unknown update type {kind!r} in allowed_updates")
        return [str(kind) for kind in allowed]

    def _check_rate(self, chat_id: int) -> None:
        if any(c in (chat_id, None) for c, _ in self._throttles):
            index = next(i for i, (c, _) in enumerate(self._throttles) if c in (chat_id, None))
            _, retry_after = self._throttles.pop(index)
            raise Refused(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        if self.enforce_rate:
            now = time.monotonic()
            to_chat = [m.at for m in self.sent if m.chat_id == chat_id]
            recent = [m for m in self.sent if now - m.at < 1.0]
            if (to_chat and now - to_chat[-1] < 1.0) or len(recent) >= 30:
                raise Refused(429, "Too Many Requests: retry after 1", retry_after=1)

    def _upload(self, user_id: int, data: bytes) -> Upload:
        width, height, kind = check_sticker_image(data)
        number = next(self._file_numbers)
        upload = Upload(
            file_id=f"BQACAgIAAxUAAW{number:08d}",
            file_unique_id="AgAD" + hashlib.sha256(data).hexdigest()[:12],
            data=data,
            width=width,
            height=height,
            format=kind,
            user_id=user_id,
        )
        self.uploads[upload.file_id] = upload
        return upload

    def _input_sticker(
        self, raw: Any, files: dict[str, bytes], user_id: int, sticker_type: str
    ) -> SetSticker:
        if not isinstance(raw, dict):
            raise bad("InputSticker must be an Object")
        unknown = set(raw) - INPUT_STICKER
        if unknown:
            raise bad(f"unknown InputSticker field {sorted(unknown)[0]}")
        for name in ("sticker", "format", "emoji_list"):
            if name not in raw:
                raise bad(f"InputSticker field {name} is required")
        if raw["format"] not in ("static", "animated", "video"):
            raise bad("STICKER_FORMAT_INVALID: format is static, animated or video")
        if raw["format"] != "static":
            raise bad("the peer accepts only static stickers")
        emojis = raw["emoji_list"]
        if (
            not isinstance(emojis, list)
            or not 1 <= len(emojis) <= 20
            or not all(isinstance(e, str) and emoji.is_emoji(e) for e in emojis)
        ):
            raise bad("STICKER_EMOJI_INVALID: emoji_list is 1-20 emoji")
        keywords = raw.get("keywords", [])
        if (
            not isinstance(keywords, list)
            or len(keywords) > 20
            or not all(isinstance(k, str) for k in keywords)
            or sum(len(k) for k in keywords) > 64
        ):
            raise bad("keywords are 0-20 strings of at most 64 characters in all")
        if "mask_position" in raw and sticker_type != "mask":
            raise bad("mask_position is allowed only for mask stickers")
        sticker = raw["sticker"]
        if not isinstance(sticker, str):
            raise bad("InputSticker field sticker must be a String")
        if sticker.startswith("attach://"):
            part = sticker.removeprefix("attach://")
            if part not in files:
                raise bad(f'can\'t find attached file "{part}"')
            upload = self._upload(user_id, files[part])
        elif sticker in self.uploads:
            upload = self.uploads[sticker]
        elif sticker.startswith(("http://", "https://")):
            raise bad("the peer cannot fetch URLs: upload the file")
        else:
            raise bad("wrong file identifier/HTTP URL specified")
        number = next(self._file_numbers)
        return SetSticker(
            file_id=f"CAACAgIAAxUAAW{number:08d}",
            file_unique_id=upload.file_unique_id,
            emoji_list=list(emojis),
            upload=upload,
        )

    def _set_of(self, sticker_file_id: str) -> tuple[StickerSet, int]:
        for sticker_set in self.sticker_sets.values():
            for index, sticker in enumerate(sticker_set.stickers):
                if sticker.file_id == sticker_file_id:
                    return sticker_set, index
        raise bad("STICKER_INVALID: no sticker with that file_id in the bot's sets")

    # --- the methods ------------------------------------------------------------------------

    def _getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.bot

    def _sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            user = self._chat(params["chat_id"])
            if user.blocked:
                raise Refused(403, "Forbidden: bot was blocked by the user")
            plain = check_text(params["text"], params.get("parse_mode"))
            markup = params.get("reply_markup")
            if markup is not None:
                check_reply_markup(markup)
            preview = params.get("link_preview_options", {})
            if set(preview) - {
                "is_disabled",
                "url",
                "prefer_small_media",
                "prefer_large_media",
                "show_above_text",
            }:
                raise bad("unknown LinkPreviewOptions field")
            self._check_rate(user.id)
            message = SentMessage(
                message_id=self._next_message_id(user.id),
                chat_id=user.id,
                text=plain,
                html=params["text"],
                reply_markup=markup,
                at=time.monotonic(),
            )
            self.sent.append(message)
            return self._message_json(message)

    def _editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            if "inline_message_id" in params:
                raise bad("the peer knows no inline messages")
            if "chat_id" not in params or "message_id" not in params:
                raise bad("chat_id and message_id are required")
            user = self._chat(params["chat_id"])
            if user.blocked:
                raise Refused(403, "Forbidden: bot was blocked by the user")
            message = self._message(user.id, params["message_id"])
            if message is None:
                raise bad("message to edit not found")
            markup = params.get("reply_markup")
            if markup is not None:
                check_reply_markup(markup)
            if (markup or None) == (message.reply_markup or None):
                raise bad(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            message.reply_markup = markup
            return self._message_json(message)

    def _answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            query_id = params["callback_query_id"]
            if query_id not in self.callback_queries or query_id in self.callback_answers:
                raise bad("query is too old and response timeout expired or query ID is invalid")
            text = params.get("text")
            if text is not None and len(text) > 200:
                raise bad("MESSAGE_TOO_LONG: callback answers are at most 200 characters")
            self.callback_answers[query_id] = text
            return True

    def _getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if not 1 <= limit <= 100 or timeout < 0:
            raise bad("limit is 1-100 and timeout is not negative")
        with self._state:
            if self.webhook is not None:
                raise Refused(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if "allowed_updates" in params:
                self._allowed_updates = self._check_allowed_updates(params["allowed_updates"])
            offset = params.get("offset")
            if offset is not None and offset < 0:
                self.updates = self.updates[offset:]
            elif offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self._poll_generation += 1
            self._state.notify_all()  # an earlier poll ends with 409, as in Telegram
            mine = self._poll_generation
            deadline = time.monotonic() + timeout
            while True:
                if mine != self._poll_generation:
                    raise Refused(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                ready = self._take_allowed(self._allowed_updates)[:limit]
                remaining = deadline - time.monotonic()
                if ready or self._stopping or remaining <= 0:
                    return ready
                self.waiting_polls += 1
                try:
                    self._state.wait(remaining)
                finally:
                    self.waiting_polls -= 1

    def _setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = params["url"]
        if url == "":
            return self._deleteWebhook(params, files)
        parts = urlsplit(url)
        if not self.allow_http_webhooks:
            if parts.scheme != "https" or not parts.hostname:
                raise bad("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad("bad webhook: invalid URL")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters or is not 1-256 long")
        if not 1 <= params.get("max_connections", 40) <= 100:
            raise bad("max_connections is 1-100")
        with self._state:
            allowed = self._check_allowed_updates(params.get("allowed_updates", []))
            if params.get("drop_pending_updates"):
                self.updates.clear()
            self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
            self._poll_generation += 1
            self._state.notify_all()
            return True

    def _deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self.updates.clear()
            return True

    def _getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            info: dict[str, Any] = {
                "url": self.webhook["url"] if self.webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self.updates),
            }
            if self.webhook and self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            return info

    def _uploadStickerFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            self._known_user(params["user_id"])
            if params["sticker_format"] not in ("static", "animated", "video"):
                raise bad("STICKER_FORMAT_INVALID: sticker_format is static, animated or video")
            if params["sticker_format"] != "static":
                raise bad("the peer accepts only static stickers")
            upload = self._upload(params["user_id"], params["sticker"])
            return {
                "file_id": upload.file_id,
                "file_unique_id": upload.file_unique_id,
                "file_size": len(upload.data),
            }

    def _createNewStickerSet(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            self._known_user(params["user_id"])
            name = params["name"]
            check_set_name(name, self.bot["username"])
            if name.lower() in {n.lower() for n in self.sticker_sets}:
                raise bad("sticker set name is already occupied")
            check_title(params["title"])
            sticker_type = params.get("sticker_type", "regular")
            if sticker_type not in ("regular", "mask", "custom_emoji"):
                raise bad("STICKER_TYPE_INVALID")
            if sticker_type != "regular":
                raise bad("the peer accepts only regular sticker sets")
            stickers = params["stickers"]
            if not stickers:
                raise bad("stickers must be non-empty")
            if len(stickers) > MAX_STICKERS_AT_CREATION:
                raise bad("STICKERS_TOO_MUCH: a new set has 1-50 stickers")
            made = [
                self._input_sticker(raw, files, params["user_id"], sticker_type) for raw in stickers
            ]
            self.sticker_sets[name] = StickerSet(name, params["title"], params["user_id"], made)
            return True

    def _addStickerToSet(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            self._known_user(params["user_id"])
            sticker_set = self.sticker_sets.get(params["name"])
            if sticker_set is None or sticker_set.owner != params["user_id"]:
                raise bad("STICKERSET_INVALID")
            if len(sticker_set.stickers) >= MAX_STICKERS_IN_SET:
                raise bad("STICKERS_TOO_MUCH: a static set holds at most 120 stickers")
            sticker_set.stickers.append(
                self._input_sticker(params["sticker"], files, params["user_id"], "regular")
            )
            return True

    def _deleteStickerFromSet(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            sticker_set, index = self._set_of(params["sticker"])
            del sticker_set.stickers[index]
            return True

    def _setStickerPositionInSet(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            sticker_set, index = self._set_of(params["sticker"])
            position = params["position"]
            if not 0 <= position < len(sticker_set.stickers):
                raise bad("STICKER_POSITION_INVALID")
            sticker_set.stickers.insert(position, sticker_set.stickers.pop(index))
            return True

    def _getStickerSet(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        with self._state:
            sticker_set = self.sticker_sets.get(params["name"])
            if sticker_set is None:
                raise bad("STICKERSET_INVALID")
            return {
                "name": sticker_set.name,
                "title": sticker_set.title,
                "sticker_type": "regular",
                "stickers": [
                    {
                        "file_id": s.file_id,
                        "file_unique_id": s.file_unique_id,
                        "type": "regular",
                        "width": s.upload.width,
                        "height": s.upload.height,
                        "is_animated": False,
                        "is_video": False,
                        "emoji": s.emoji_list[0],
                        "set_name": sticker_set.name,
                        "file_size": len(s.upload.data),
                    }
                    for s in sticker_set.stickers
                ],
            }


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url``; the HTTP status, or 0 when nothing answered."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except OSError:
        return 0
