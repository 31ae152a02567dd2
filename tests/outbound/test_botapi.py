"""The Bot API client against the local Bot API peer, and the peer against Telegram's published
rules: every refusal the product may meet is checked on the peer too, so a client bug cannot
hide behind a lax peer."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from app.outbound.botapi import (
    WEBHOOK_SECRET_HEADER,
    BadRequest,
    BotApi,
    BotApiError,
    BotApiUnreachable,
    BotBlocked,
    TooManyRequests,
    Unauthorized,
    secret_matches,
)
from tests.telegram.peer import BOT_USERNAME, BotApiPeer

ADA = 4_100_000_001
SET = f"earlybirds_by_{BOT_USERNAME}"
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "consent:yes:42"}],
        [{"text": "No", "callback_data": "consent:no:42"}],
    ]
}


def image(size: tuple[int, int] = (512, 512), fmt: str = "WEBP", **save: Any) -> bytes:
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle((0, 0, size[0] // 2, size[1] // 2), fill="#d2452b")
    out = io.BytesIO()
    picture.convert("RGB" if fmt == "JPEG" else "RGBA").save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture
def peer() -> Iterator[BotApiPeer]:
    """The peer alone (the ``bot_api`` fixture of tests/telegram, without the app around it)."""
    with BotApiPeer() as bot_api:
        bot_api.add_user(ADA, "Ada", "ada_l")
        yield bot_api
    assert not bot_api.errors, f"the Bot API peer itself failed: {bot_api.errors}"


@pytest.fixture
def bot(peer: BotApiPeer) -> Iterator[BotApi]:
    with BotApi(peer.token, peer.base, timeout=5) as client:
        yield client


def sticker(file: str | bytes, *emoji: str) -> dict[str, Any]:
    return {"sticker": file, "format": "static", "emoji_list": list(emoji or ["🐦"])}


# --- round trips ------------------------------------------------------------------------------


def test_get_me_is_the_peers_bot(bot: BotApi, peer: BotApiPeer) -> None:
    me = bot.get_me()
    assert me["username"] == BOT_USERNAME
    assert me["id"] == int(peer.token.split(":")[0])


def test_a_message_arrives_as_the_user_sees_it(bot: BotApi, peer: BotApiPeer) -> None:
    sent = bot.send_message(ADA, "<b>Morning digest</b> &amp; offers", reply_markup=KEYBOARD)
    [message] = peer.messages(ADA)
    assert sent["message_id"] == message.message_id
    assert message.text == "Morning digest & offers"
    assert message.reply_markup == KEYBOARD
    [call] = peer.calls("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}


def test_a_pressed_button_is_answered_and_removed(bot: BotApi, peer: BotApiPeer) -> None:
    sent = bot.send_message(ADA, "Weekly digest by Telegram?", reply_markup=KEYBOARD)
    peer.user_presses(ADA, sent["message_id"], "consent:yes:42")
    [update] = bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
    query = update["callback_query"]
    assert query["data"] == "consent:yes:42"
    assert query["message"]["message_id"] == sent["message_id"]
    assert bot.answer_callback_query(query["id"], "Thanks, you're in.")
    assert peer.callback_answers == {query["id"]: "Thanks, you're in."}
    with pytest.raises(BadRequest, match="query is too old"):
        bot.answer_callback_query(query["id"])
    bot.edit_message_reply_markup(ADA, sent["message_id"], None)
    with pytest.raises(AssertionError, match="no button"):
        peer.user_presses(ADA, sent["message_id"], "consent:yes:42")
    with pytest.raises(BadRequest, match="message is not modified"):
        bot.edit_message_reply_markup(ADA, sent["message_id"], None)


def test_updates_are_confirmed_by_the_next_offset(bot: BotApi, peer: BotApiPeer) -> None:
    peer.user_sends(ADA, "/start link-7f3a")
    peer.user_sends(ADA, "hello")
    first, second = bot.get_updates()
    assert first["message"]["text"] == "/start link-7f3a"
    assert first["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert [u["update_id"] for u in bot.get_updates(offset=first["update_id"] + 1)] == [
        second["update_id"]
    ]
    assert bot.get_updates(offset=second["update_id"] + 1) == []
    assert peer.pending_updates == []


def test_a_long_poll_wakes_when_the_user_writes(bot: BotApi, peer: BotApiPeer) -> None:
    timer = threading.Timer(0.3, peer.user_sends, (ADA, "/stop"))
    started = time.monotonic()
    timer.start()
    try:
        [update] = bot.get_updates(timeout=10)
    finally:
        timer.join()
    assert update["message"]["text"] == "/stop"
    assert 0.2 < time.monotonic() - started < 5


def test_a_long_poll_without_updates_waits_its_timeout(bot: BotApi) -> None:
    started = time.monotonic()
    assert bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


def test_a_second_poller_terminates_the_first(bot: BotApi, peer: BotApiPeer) -> None:
    errors: list[BotApiError] = []

    def poll() -> None:
        with BotApi(peer.token, peer.base) as other:
            try:
                other.get_updates(timeout=10)
            except BotApiError as error:
                errors.append(error)

    thread = threading.Thread(target=poll)
    thread.start()
    deadline = time.monotonic() + 5
    while not peer.waiting_polls and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bot.get_updates(timeout=0) == []
    thread.join()
    assert [e.error_code for e in errors] == [409]


def test_webhook_updates_carry_the_secret(bot: BotApi, peer: BotApiPeer) -> None:
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        received.append((url, json.loads(body), headers))
        return 200

    url = "https://pullfirst.example/telegram/webhook"
    assert bot.set_webhook(url, "s3cret-Token_1", ["message", "callback_query"])
    with pytest.raises(BotApiError, match="webhook is active") as conflict:
        bot.get_updates()
    assert conflict.value.error_code == 409
    peer.user_sends(ADA, "/start abc")
    assert peer.deliver_updates(post) == [200]
    [(to, update, headers)] = received
    assert to == url and update["message"]["text"] == "/start abc"
    assert headers[WEBHOOK_SECRET_HEADER] == "s3cret-Token_1"
    assert peer.pending_updates == []
    assert bot.delete_webhook()
    assert bot.get_updates() == []


def test_a_refused_webhook_delivery_stays_queued(bot: BotApi, peer: BotApiPeer) -> None:
    """Through real HTTP: the peer POSTs to a local endpoint, which refuses the second update."""
    seen: list[tuple[str | None, bytes]] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.headers.get(WEBHOOK_SECRET_HEADER), body))
            self.send_response(200 if len(seen) == 1 else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Endpoint) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            peer.allow_http_webhooks = True
            bot.set_webhook(f"http://127.0.0.1:{server.server_address[1]}/hook", "abc")
            first = peer.user_sends(ADA, "one")
            second = peer.user_sends(ADA, "two")
            assert peer.deliver_updates() == [200, 503]
        finally:
            server.shutdown()
            thread.join()
    assert [secret for secret, _ in seen] == ["abc", "abc"]
    assert peer.deliveries == [(first["update_id"], 200), (second["update_id"], 503)]
    assert peer.pending_updates == [second]


def test_sticker_set_life(bot: BotApi, peer: BotApiPeer) -> None:
    art = image()
    uploaded = bot.upload_sticker_file(ADA, art)
    assert peer.uploads[uploaded["file_id"]].data == art
    [upload_call] = peer.calls("uploadStickerFile")
    assert upload_call.params["sticker"] == art  # a multipart file part, byte for byte
    tall = image((300, 512))
    assert bot.create_new_sticker_set(
        ADA, SET, "Early birds", [sticker(uploaded["file_id"], "🐦", "🌅"), sticker(tall, "🦉")]
    )
    assert bot.add_sticker_to_set(ADA, SET, sticker(image((512, 200)), "🐓"))
    stickers = bot.get_sticker_set(SET)["stickers"]
    assert [(s["emoji"], s["width"], s["height"]) for s in stickers] == [
        ("🐦", 512, 512),
        ("🦉", 300, 512),
        ("🐓", 512, 200),
    ]
    assert peer.sticker_sets[SET].stickers[0].emoji_list == ["🐦", "🌅"]
    assert bot.set_sticker_position_in_set(stickers[2]["file_id"], 0)
    assert bot.delete_sticker_from_set(stickers[0]["file_id"])
    after = bot.get_sticker_set(SET)
    assert after["title"] == "Early birds"
    assert [s["emoji"] for s in after["stickers"]] == ["🐓", "🦉"]


def test_a_static_set_holds_at_most_120(bot: BotApi, peer: BotApiPeer) -> None:
    file_id = bot.upload_sticker_file(ADA, image())["file_id"]
    with pytest.raises(BadRequest, match="1-50"):
        bot.create_new_sticker_set(ADA, SET, "Full", [sticker(file_id)] * 51)
    assert bot.create_new_sticker_set(ADA, SET, "Full", [sticker(file_id)] * 50)
    for _ in range(70):
        bot.add_sticker_to_set(ADA, SET, sticker(file_id))
    with pytest.raises(BadRequest, match="at most 120"):
        bot.add_sticker_to_set(ADA, SET, sticker(file_id))
    assert len(peer.sticker_sets[SET].stickers) == 120


def test_one_connection_serves_many_calls(bot: BotApi, peer: BotApiPeer) -> None:
    bot.get_me()
    bot.send_message(ADA, "one")
    bot.upload_sticker_file(ADA, image())
    assert len(peer.requests) == 3
    assert len(peer.clients()) == 1


def test_the_peer_reads_query_strings_and_forms_too(peer: BotApiPeer) -> None:
    with httpx.Client() as raw:
        got = raw.get(peer.url("getMe"))
        assert got.json()["result"]["username"] == BOT_USERNAME
        sent = raw.post(peer.url("sendMessage"), data={"chat_id": str(ADA), "text": "form"})
        assert sent.json()["ok"] is True
        polled = raw.get(peer.url("getUpdates"), params={"offset": "-1", "timeout": "0"})
        assert polled.json() == {"ok": True, "result": []}
        typo = raw.post(peer.url("sendMessage"), json={"chat_id": ADA, "txt": "typo"})
        assert (typo.status_code, typo.json()["description"]) == (
            400,
            "Bad Request: unknown parameter txt",
        )
        wrong = raw.post(peer.url("getMe", token="1:nope"))
        assert (wrong.status_code, wrong.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
    assert [m.text for m in peer.messages(ADA)] == ["form"]
    assert [r.status for r in peer.requests] == [200, 200, 200, 400, 401]


# --- errors -----------------------------------------------------------------------------------


def test_a_blocked_bot_is_told_so(bot: BotApi, peer: BotApiPeer) -> None:
    peer.block(ADA)
    with pytest.raises(BotBlocked, match="blocked by the user") as blocked:
        bot.send_message(ADA, "Hello?")
    assert blocked.value.error_code == 403
    assert peer.messages(ADA) == []


def test_an_unknown_chat_is_a_gone_chat(bot: BotApi) -> None:
    with pytest.raises(BotBlocked, match="chat not found") as gone:
        bot.send_message(999, "Hello?")
    assert gone.value.error_code == 400


@pytest.mark.parametrize("chat", [ADA, None])
def test_throttling_says_when_to_retry(bot: BotApi, peer: BotApiPeer, chat: int | None) -> None:
    peer.throttle(chat, 7)
    with pytest.raises(TooManyRequests) as throttled:
        bot.send_message(ADA, "one")
    assert (throttled.value.error_code, throttled.value.retry_after) == (429, 7)
    bot.send_message(ADA, "one, again")
    assert [m.text for m in peer.messages(ADA)] == ["one, again"]


def test_the_rate_is_recorded_and_can_be_enforced(peer: BotApiPeer, bot: BotApi) -> None:
    for n in range(3):
        bot.send_message(ADA, f"burst {n}")
    assert peer.max_sends_per_second(ADA) == 3
    assert peer.max_sends_per_second() == 3
    peer.enforce_rate = True
    with pytest.raises(TooManyRequests) as throttled:
        bot.send_message(ADA, "too soon")
    assert throttled.value.retry_after == 1


def test_a_wrong_token_is_unauthorized_and_never_shown(peer: BotApiPeer) -> None:
    secret = "7100200300:AAHwrong-token-never-to-be-printed_XYZ"
    with BotApi(secret, peer.base) as wrong, pytest.raises(Unauthorized) as refused:
        wrong.get_me()
    assert refused.value.error_code == 401
    assert_token_hidden(refused.value, secret)


def test_an_unknown_method_is_not_found(bot: BotApi) -> None:
    with pytest.raises(BotApiError) as missing:
        bot.call("sendTelepathy", {"chat_id": ADA})
    assert (missing.value.error_code, missing.value.description) == (404, "Not Found")


def test_an_unreachable_api_is_retryable_and_hides_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "7100200300:AAHsecret-in-the-url_0123456789abcdef"
    with (
        BotApi(token, f"http://127.0.0.1:{port}", timeout=2) as bot,
        pytest.raises(BotApiUnreachable) as down,
    ):
        bot.get_me()
    assert down.value.error_code == 0
    assert_token_hidden(down.value, token)


@pytest.mark.parametrize(
    ("answer", "expected", "code"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), BotApiUnreachable, 502),
        (
            httpx.Response(500, json={"ok": False, "error_code": 500, "description": "Internal"}),
            BotApiUnreachable,
            500,
        ),
        (httpx.ReadTimeout("read timed out"), BotApiUnreachable, 0),
        (
            httpx.Response(400, json={"ok": False, "error_code": 400, "description": "Bad"}),
            BadRequest,
            400,
        ),
    ],
)
def test_server_failures_map_to_errors(
    answer: httpx.Response | Exception, expected: type[BotApiError], code: int
) -> None:
    token = "1:AAHtoken-in-a-mocked-url"

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    with (
        BotApi(token, transport=httpx.MockTransport(handler)) as bot,
        pytest.raises(expected) as caught,
    ):
        bot.get_me()
    assert type(caught.value) is expected and caught.value.error_code == code
    assert_token_hidden(caught.value, token)


def assert_token_hidden(error: BaseException, token: str) -> None:
    printed = "".join(traceback.format_exception(error))
    assert token not in str(error) and token not in repr(error) and token not in printed
    assert token.split(":")[1] not in printed


@pytest.mark.parametrize(
    ("given", "expected"),
    [("s3cret", True), ("s3cres", False), ("", False), (None, False), ("s3cret ", False)],
)
def test_the_webhook_secret_must_match_exactly(given: str | None, expected: bool) -> None:
    assert secret_matches(given, "s3cret") is expected
    assert secret_matches(given, "") is False


# --- the peer refuses what Telegram refuses ---------------------------------------------------

WEBP = image()
TOO_BIG = image((512, 512), "PNG", compress_level=0) + b"\0" * (512 * 1024)


def set_params(
    name: str = SET, title: str = "Early birds", **sticker_fields: Any
) -> dict[str, Any]:
    return {
        "user_id": ADA,
        "name": name,
        "title": title,
        "stickers": [{**sticker("attach://s0"), **sticker_fields}],
    }


def art(data: bytes = WEBP) -> dict[str, tuple[str, bytes, str]]:
    return {"s0": ("s0.webp", data, "image/webp")}


REFUSED = [
    # sticker set names: letters, digits, underscores; a letter first; no "__"; "_by_<bot>"
    ("createNewStickerSet", set_params(f"1birds_by_{BOT_USERNAME}"), art(), "set name"),
    ("createNewStickerSet", set_params(f"early__birds_by_{BOT_USERNAME}"), art(), "set name"),
    ("createNewStickerSet", set_params(f"early-birds_by_{BOT_USERNAME}"), art(), "set name"),
    ("createNewStickerSet", set_params("earlybirds"), art(), "set name"),
    ("createNewStickerSet", set_params("earlybirds_by_other_bot"), art(), "set name"),
    ("createNewStickerSet", set_params(f"_by_{BOT_USERNAME}"), art(), "set name"),
    ("createNewStickerSet", set_params("b" * 43 + f"_by_{BOT_USERNAME}"), art(), "set name"),
    ("createNewStickerSet", set_params(title="t" * 65), art(), "1-64"),
    ("createNewStickerSet", set_params(title=""), art(), "1-64"),
    ("createNewStickerSet", set_params(emoji_list=["🐦"] * 21), art(), "1-20 emoji"),
    ("createNewStickerSet", set_params(emoji_list=[]), art(), "1-20 emoji"),
    ("createNewStickerSet", set_params(emoji_list=["bird"]), art(), "1-20 emoji"),
    ("createNewStickerSet", set_params(format="video"), art(), "static"),
    ("createNewStickerSet", set_params(colour="red"), art(), "unknown InputSticker"),
    ("createNewStickerSet", set_params(), {}, "can't find attached file"),
    ("createNewStickerSet", set_params(), art(image((500, 500))), "512"),
    ("createNewStickerSet", set_params(), art(image((512, 600))), "512"),
    ("createNewStickerSet", set_params(), art(image((512, 512), "JPEG")), "WebP or PNG"),
    ("createNewStickerSet", set_params(), art(TOO_BIG), "512 KB"),
    ("createNewStickerSet", set_params(), art(b"not an image"), "STICKER_FILE_INVALID"),
    ("createNewStickerSet", {**set_params(), "user_id": 5}, art(), "user not found"),
    ("uploadStickerFile", {"user_id": ADA, "sticker_format": "static"}, {}, "sticker is req"),
    ("uploadStickerFile", {"user_id": ADA, "sticker": "x", "sticker_format": "static"}, {}, "file"),
    # messages
    ("sendMessage", {"chat_id": ADA, "text": "hi", "colour": "red"}, {}, "unknown parameter"),
    ("sendMessage", {"chat_id": ADA, "text": "hi", "disable_web_page_preview": True}, {}, "unkno"),
    ("sendMessage", {"chat_id": ADA}, {}, "text is required"),
    ("sendMessage", {"chat_id": [ADA], "text": "hi"}, {}, "must be of type"),
    ("sendMessage", {"chat_id": ADA, "text": 5}, {}, "must be of type String"),
    ("sendMessage", {"chat_id": ADA, "text": ""}, {}, "text is empty"),
    ("sendMessage", {"chat_id": ADA, "text": "x" * 4097}, {}, "too long"),
    ("sendMessage", {"chat_id": ADA, "text": "<b>x</b>" * 4097, "parse_mode": "HTML"}, {}, "long"),
    ("sendMessage", {"chat_id": ADA, "text": "<div>x</div>", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": "<b>x", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": "<b><i>x</b></i>", "parse_mode": "HTML"}, {}, "pars"),
    ("sendMessage", {"chat_id": ADA, "text": "1 < 2", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": "R&D", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": "&nbsp;x", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": "<a>x</a>", "parse_mode": "HTML"}, {}, "parse"),
    ("sendMessage", {"chat_id": ADA, "text": '<b class="x">x</b>', "parse_mode": "HTML"}, {}, "p"),
    (
        "sendMessage",
        {"chat_id": ADA, "text": '<span class="x">x</span>', "parse_mode": "HTML"},
        {},
        "p",
    ),
    ("sendMessage", {"chat_id": ADA, "text": "*x*", "parse_mode": "MarkdownV2"}, {}, "parse_mode"),
    ("sendMessage", {"chat_id": ADA, "text": "x", "reply_markup": "{"}, {}, "can't parse"),
    ("sendMessage", {"chat_id": ADA, "text": "x", "reply_markup": {"keyboard": []}}, {}, "Inline"),
]


def keyboard(**button: Any) -> dict[str, Any]:
    return {"chat_id": ADA, "text": "x", "reply_markup": {"inline_keyboard": [[button]]}}


REFUSED += [
    ("sendMessage", keyboard(text="Yes", callback_data="x" * 65), {}, "BUTTON_DATA_INVALID"),
    ("sendMessage", keyboard(text="Yes", callback_data="é" * 33), {}, "BUTTON_DATA_INVALID"),
    ("sendMessage", keyboard(text="Yes", callback_data=""), {}, "BUTTON_DATA_INVALID"),
    ("sendMessage", keyboard(text="Yes"), {}, "text buttons are unallowed"),
    ("sendMessage", keyboard(text="Go", url="javascript:alert(1)"), {}, "BUTTON_URL_INVALID"),
    ("sendMessage", keyboard(text="Go", url="https://x.example", callback_data="a"), {}, "one"),
    ("sendMessage", keyboard(callback_data="a"), {}, "BUTTON_TEXT_INVALID"),
    ("sendMessage", {"chat_id": 12345, "text": "x"}, {}, "chat not found"),
    ("answerCallbackQuery", {"callback_query_id": "123"}, {}, "query ID is invalid"),
    ("setWebhook", {"url": "http://pullfirst.example/hook"}, {}, "HTTPS URL"),
    ("setWebhook", {"url": "https://pullfirst.example:8080/hook"}, {}, "ports"),
    ("setWebhook", {"url": "https://pullfirst.example/h", "secret_token": "a b"}, {}, "secret"),
    ("setWebhook", {"url": "https://pullfirst.example/h", "allowed_updates": ["x"]}, {}, "update"),
    ("getUpdates", {"limit": 101}, {}, "limit"),
    ("getStickerSet", {"name": SET}, {}, "STICKERSET_INVALID"),
    ("deleteStickerFromSet", {"sticker": "CAACnope"}, {}, "STICKER_INVALID"),
]


@pytest.mark.parametrize(("method", "params", "files", "expected"), REFUSED)
def test_the_peer_refuses_what_telegram_refuses(
    bot: BotApi,
    peer: BotApiPeer,
    method: str,
    params: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]],
    expected: str,
) -> None:
    with pytest.raises(BotApiError) as refused:
        bot.call(method, params, files or None)
    assert refused.value.error_code == 400
    assert expected in refused.value.description
    assert refused.value.description.startswith("Bad Request: ")
    assert peer.sent == [] and peer.sticker_sets == {}


ACCEPTED = [
    ("createNewStickerSet", set_params(f"Early_Birds2_by_{BOT_USERNAME.upper()}"), art()),
    ("createNewStickerSet", set_params("b" * 42 + f"_by_{BOT_USERNAME}", "t" * 64), art()),
    ("createNewStickerSet", set_params(emoji_list=["🐦", "👍🏽", "🏳️‍🌈"] + ["🌅"] * 17), art()),
    ("createNewStickerSet", set_params(), art(image((512, 1), "PNG"))),
    ("sendMessage", {"chat_id": ADA, "text": "x" * 4096}, {}),
    ("sendMessage", {"chat_id": ADA, "text": "<b>x</b>" * 4096, "parse_mode": "HTML"}, {}),
    ("sendMessage", {"chat_id": str(ADA), "text": "as a form field"}, art()),
    (
        "sendMessage",
        {
            "chat_id": ADA,
            "parse_mode": "HTML",
            "text": (
                "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s>"
                '<strike>s</strike><del>d</del><span class="tg-spoiler">x</span>'
                '<tg-spoiler>x</tg-spoiler><a href="https://x.example/?a=1&amp;b=2">a</a>'
                '<code>c</code><pre><code class="language-python">p</code></pre>'
                "<blockquote>q</blockquote><blockquote expandable>q</blockquote>"
                "&lt;&gt;&amp;&quot;&#127775;&#x1F31F;<b><i>nested</i></b>"
            ),
        },
        {},
    ),
    ("sendMessage", keyboard(text="Yes", callback_data="x" * 64), {}),
    ("sendMessage", keyboard(text="Open", url="https://pullfirst.example/p/1"), {}),
]


@pytest.mark.parametrize(("method", "params", "files"), ACCEPTED)
def test_the_peer_accepts_what_telegram_accepts(
    bot: BotApi, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes, str]]
) -> None:
    assert bot.call(method, params, files or None)
