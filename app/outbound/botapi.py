"""The Telegram Bot API, spoken over plain HTTP: requests go to ``<base>/bot<token>/<method>``
with a JSON body (multipart/form-data when a file is uploaded) and answers are
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": N, "description": …,
"parameters": {"retry_after": S, "migrate_to_chat_id": …}}``.

Why not python-telegram-bot or aiogram: both are asyncio frameworks (dispatchers, handlers, an
event loop of their own). Pullfirst is a synchronous Flask app with a synchronous worker and uses
about a dozen Bot API methods, which are simplest as plain HTTP through httpx: a well-kept client
with connection reuse (one keep-alive :class:`httpx.Client` per :class:`BotApi`), timeouts and
multipart support, and an injectable transport.

Errors (``str(error)`` is safe to log: the token, which is part of every URL, never appears)::

    BotApiError              the Bot API said no (``method``, ``error_code``, ``description``,
    │                        ``retry_after``, ``migrate_to_chat_id``)
    ├── BadRequest           400: a parameter Telegram refuses; fix the call, do not retry
    ├── Unauthorized         401: the token is wrong or revoked; the operator must fix it
    ├── BotBlocked           403 (the user blocked the bot, deactivated, …) or 400 "chat not
    │                        found": the chat is gone, so the product disables the link
    ├── TooManyRequests      429: wait ``retry_after`` seconds before the next request
    └── BotApiUnreachable    no answer (connect error, timeout) or a 5xx: try again later
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from app.outbound.http import KeepAlive

DEFAULT_BASE = "https://api.telegram.org"
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

#: A file to upload: (file name, bytes, content type).
FilePart = tuple[str, bytes, str]


class BotApiError(Exception):
    """The Bot API refused a call. ``retry_after`` is set when Telegram asked us to wait."""

    def __init__(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(f"{method}: {error_code} {description}")
        self.method = method
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


class BadRequest(BotApiError):
    pass


class Unauthorized(BotApiError):
    pass


class BotBlocked(BotApiError):
    """The chat cannot receive messages from the bot any more (blocked, deactivated, not found)."""


class TooManyRequests(BotApiError):
    pass


class BotApiUnreachable(BotApiError):
    """No usable answer: ``error_code`` is the HTTP status of a 5xx, or 0 when none came."""


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether a webhook request's :data:`WEBHOOK_SECRET_HEADER` is the secret we set, compared
    in constant time. An empty ``expected`` matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _image_type(data: bytes) -> tuple[str, str]:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "sticker.webp", "image/webp"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "sticker.png", "image/png"
    return "sticker", "application/octet-stream"


def _form_value(value: Any) -> str:
    """A parameter as a multipart field: strings as they are, everything else JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class BotApi(KeepAlive):
    """One bot's connection to the Bot API (one keep-alive connection pool; :meth:`close` it).

    Every method raises :class:`BotApiError` (one of its subclasses) when Telegram says no."""

    def __init__(
        self,
        token: str,
        base: str = DEFAULT_BASE,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._token = token
        self._base = base.rstrip("/")
        self._timeout = timeout
        super().__init__(timeout, transport)

    def __repr__(self) -> str:
        return f"BotApi(base={self._base!r})"

    def _safe(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, FilePart] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Call ``method`` and return its ``result``. ``None`` parameters are left out. With
        ``files``, the request is multipart/form-data: nested parameters become JSON-encoded
        fields and each file a part named by its key (what ``attach://<key>`` refers to)."""
        url = f"{self._base}/bot{self._token}/{method}"
        given = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            if files:
                data = {key: _form_value(value) for key, value in given.items()}
                response = self._client.post(
                    url, data=data, files=dict(files), timeout=timeout or self._timeout
                )
            else:
                response = self._client.post(url, json=given, timeout=timeout or self._timeout)
        except httpx.TimeoutException:
            raise BotApiUnreachable(method, 0, "no answer in time") from None
        except httpx.HTTPError as error:
            detail = self._safe(str(error)) or type(error).__name__
            raise BotApiUnreachable(method, 0, f"not reachable: {detail}") from None
        return self._result(method, response)

    def _result(self, method: str, response: httpx.Response) -> Any:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            status = response.status_code
            if status >= 500 or status < 400:
                raise BotApiUnreachable(method, status, f"unreadable answer (HTTP {status})")
            raise _error_class(status, "")(method, status, f"HTTP {status}")
        if answer.get("ok") is True:
            return answer.get("result")
        code = answer.get("error_code")
        code = code if isinstance(code, int) else response.status_code
        description = self._safe(str(answer.get("description") or f"HTTP {code}"))
        parameters = answer.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        retry_after = parameters.get("retry_after")
        migrate_to = parameters.get("migrate_to_chat_id")
        raise _error_class(code, description)(
            method,
            code,
            description,
            retry_after if isinstance(retry_after, int) else None,
            migrate_to if isinstance(migrate_to, int) else None,
        )

    # --- the methods the product uses -------------------------------------------------------

    def get_me(self) -> dict[str, Any]:
        """The bot's own User (``id``, ``username``, ``first_name``…)."""
        result: dict[str, Any] = self.call("getMe")
        return result

    def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        parse_mode: str | None = "HTML",
        reply_markup: Mapping[str, Any] | None = None,
        disable_web_page_preview: bool = True,
    ) -> dict[str, Any]:
        """Send ``text`` (Telegram HTML by default) and return the sent Message. The preview
        switch is sent as ``link_preview_options``, its name since Bot API 7.0."""
        result: dict[str, Any] = self.call(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": text,
                "parse_mode": parse_mode,
                "reply_markup": reply_markup,
                "link_preview_options": {"is_disabled": True} if disable_web_page_preview else None,
            },
        )
        return result

    def edit_message_reply_markup(
        self, chat_id: int | str, message_id: int, reply_markup: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | bool:
        """Replace (or, with ``None``, remove) a sent message's inline keyboard."""
        result: dict[str, Any] | bool = self.call(
            "editMessageReplyMarkup",
            {"chat_id": chat_id, "message_id": message_id, "reply_markup": reply_markup},
        )
        return result

    def answer_callback_query(self, callback_query_id: str, text: str | None = None) -> bool:
        """Stop the pressed button's spinner, optionally showing ``text`` (0-200 characters)."""
        return bool(
            self.call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})
        )

    def get_updates(
        self,
        offset: int | None = None,
        timeout: int = 0,
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Updates with ``update_id >= offset`` (confirming all earlier ones), long-polling up to
        ``timeout`` seconds; the HTTP deadline is stretched by the same amount."""
        result: list[dict[str, Any]] = self.call(
            "getUpdates",
            {"offset": offset, "timeout": timeout, "allowed_updates": allowed_updates},
            timeout=self._timeout + timeout,
        )
        return result

    def set_webhook(
        self, url: str, secret_token: str, allowed_updates: list[str] | None = None
    ) -> bool:
        """Have Telegram POST updates to ``url`` with :data:`WEBHOOK_SECRET_HEADER` set to
        ``secret_token`` (1-256 characters of ``A-Za-z0-9_-``)."""
        return bool(
            self.call(
                "setWebhook",
                {"url": url, "secret_token": secret_token, "allowed_updates": allowed_updates},
            )
        )

    def delete_webhook(self, drop_pending_updates: bool = False) -> bool:
        return bool(
            self.call("deleteWebhook", {"drop_pending_updates": drop_pending_updates or None})
        )

    def upload_sticker_file(
        self, user_id: int, sticker: bytes, sticker_format: str = "static"
    ) -> dict[str, Any]:
        """Upload one sticker image for later use in a set; returns the File (``file_id``…)."""
        name, content_type = _image_type(sticker)
        result: dict[str, Any] = self.call(
            "uploadStickerFile",
            {"user_id": user_id, "sticker_format": sticker_format},
            files={"sticker": (name, sticker, content_type)},
        )
        return result

    def create_new_sticker_set(
        self, user_id: int, name: str, title: str, stickers: list[dict[str, Any]]
    ) -> bool:
        """Create the set ``name`` (which must end in ``_by_<bot username>``) owned by
        ``user_id``. Each InputSticker's ``sticker`` is a ``file_id`` string or the image bytes,
        which are uploaded in the same request (``attach://sticker<n>``)."""
        inputs, files = _attach(stickers)
        return bool(
            self.call(
                "createNewStickerSet",
                {"user_id": user_id, "name": name, "title": title, "stickers": inputs},
                files=files or None,
            )
        )

    def add_sticker_to_set(self, user_id: int, name: str, sticker: dict[str, Any]) -> bool:
        inputs, files = _attach([sticker])
        return bool(
            self.call(
                "addStickerToSet",
                {"user_id": user_id, "name": name, "sticker": inputs[0]},
                files=files or None,
            )
        )

    def delete_sticker_from_set(self, sticker: str) -> bool:
        return bool(self.call("deleteStickerFromSet", {"sticker": sticker}))

    def set_sticker_position_in_set(self, sticker: str, position: int) -> bool:
        return bool(
            self.call("setStickerPositionInSet", {"sticker": sticker, "position": position})
        )

    def get_sticker_set(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("getStickerSet", {"name": name})
        return result


def _error_class(code: int, description: str) -> type[BotApiError]:
    if code == 429:
        return TooManyRequests
    if code == 403 or (code == 400 and "chat not found" in description.lower()):
        return BotBlocked
    if code == 400:
        return BadRequest
    if code == 401:
        return Unauthorized
    if code >= 500:
        return BotApiUnreachable
    return BotApiError


def _attach(stickers: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, FilePart]]:
    """InputStickers whose image bytes are replaced by ``attach://sticker<n>``, and the parts."""
    inputs: list[dict[str, Any]] = []
    files: dict[str, FilePart] = {}
    for number, given in enumerate(stickers):
        sticker = dict(given)
        if isinstance(sticker.get("sticker"), bytes):
            part = f"sticker{number}"
            data: bytes = sticker["sticker"]
            filename, content_type = _image_type(data)
            files[part] = (filename, data, content_type)
            sticker["sticker"] = f"attach://{part}"
        inputs.append(sticker)
    return inputs, files
