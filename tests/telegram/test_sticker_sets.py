"""*Add to Telegram*: the bot makes an earned pack the member's own sticker set, against a local
Bot API peer that refuses what Telegram refuses (set names, titles, emoji, 512 px WebPs)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import clock as app_clock
from app.accounts.models import Member
from app.accounts.privacy import delete_member, export_member
from app.consent import telegram as links
from app.consent.models import TelegramChat
from app.extensions import db
from app.stickers import limits
from app.stickers.build import build_packs
from app.stickers.builds import BuiltPack, read_build
from app.stickers.pool import worker_pool
from app.telegram.models import TelegramSetSticker, TelegramStickerSet
from app.telegram.stickersets import set_name
from tests.conftest import PASSWORD, Clock
from tests.helpers import post_form, sign_in
from tests.stickers.art import shape, write_pack
from tests.stickers.conftest import make_member, options
from tests.telegram.peer import BOT_USERNAME, BotApiPeer

SLUG = "tiny-birds"
PAGE = f"/stickers/{SLUG}/"
ADD = f"/stickers/{SLUG}/telegram"
CHAT = 424_242_001
STICKERS = [
    {"file": "s1.png", "emojis": ["🐦"], "alt": "A red dot"},
    {"file": "s2.png", "emojis": ["👋", "🐦"], "alt": "A blue dot"},
    {"file": "s3.png", "emojis": ["😄"], "alt": "A green dot"},
]
PERSONAL = {
    "base": "base.png",
    "box": [40, 200, 470, 300],
    "color": "#000000",
    "emojis": ["💌"],
    "alt": "Your name on a yellow dot",
}
COLOURS = {"s1.png": "#d2452b", "s2.png": "#2b7bd2", "s3.png": "#3bb273", "s4.png": "#8e5fd1"}


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = worker_pool(2)
    yield executor
    executor.shutdown()


@pytest.fixture
def stickers_dir(tmp_path: Path) -> Path:
    return tmp_path / "stickers"


@pytest.fixture
def app_config(
    app_config: dict[str, Any], bot_api: BotApiPeer, stickers_dir: Path
) -> dict[str, Any]:
    app_config.update(
        TELEGRAM_BOT_TOKEN=bot_api.token,
        TELEGRAM_API_BASE=bot_api.base,
        TELEGRAM_BOT_USERNAME=BOT_USERNAME,
        STICKERS_DIR=str(stickers_dir),
    )
    return app_config


def _write(stickers_dir: Path, stickers: list[dict[str, Any]]) -> None:
    folder = write_pack(stickers_dir, SLUG, stickers, personal=PERSONAL)
    for sticker in stickers:
        shape(folder / sticker["file"], colour=COLOURS[sticker["file"]])
    shape(folder / "base.png", size=(512, 512), colour="#f2b134")


def _build(app: Flask, stickers_dir: Path, pool: ProcessPoolExecutor) -> BuiltPack:
    output = Path(app.instance_path) / "stickers"
    report = build_packs(
        options(stickers_dir, output, telegram_bot=BOT_USERNAME), [SLUG], executor=pool
    )
    assert not report.failed, report.failed
    built = read_build(output, SLUG)
    assert built is not None
    return built


@pytest.fixture
def pack(app: Flask, stickers_dir: Path, pool: ProcessPoolExecutor) -> BuiltPack:
    """``tiny-birds``: three stickers and a personalised one, built for the app."""
    _write(stickers_dir, STICKERS)
    return _build(app, stickers_dir, pool)


def _link(app: Flask, member_id: int, chat_id: int = CHAT) -> None:
    with app.app_context():
        token = links.new_link_token(member_id, app_clock.now())
        links.link_chat(token, chat_id, "robin", app_clock.now())
        db.session.commit()


def _member(
    app: Flask,
    clock: Clock,
    bot_api: BotApiPeer,
    *,
    email: str = "robin@example.com",
    holds: bool = True,
    linked: bool = True,
) -> tuple[FlaskClient, int]:
    rewards = (f"pack:{SLUG}",) if holds else ()
    member_id = make_member(app, clock, email, "Robin", rewards)
    if linked:
        bot_api.add_user(CHAT, "Robin", "robin")
        _link(app, member_id)
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client, member_id


def _tap(client: FlaskClient) -> str:
    """Press *Add to Telegram*; the pack page it leads back to."""
    response = post_form(client, ADD, {}, page=PAGE)
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith(f"{PAGE}#telegram")
    return client.get(PAGE).text


def _name(app: Flask, member_id: int) -> str:
    return set_name(SLUG, member_id, BOT_USERNAME, app.config["SECRET_KEY"])


def _set_files(bot_api: BotApiPeer, name: str) -> list[tuple[bytes, list[str]]]:
    return [(s.upload.data, s.emoji_list) for s in bot_api.sticker_sets[name].stickers]


def _telegram_file(pack: BuiltPack, file: str) -> bytes:
    sticker = next(s for s in pack.stickers if s.source == file)
    return pack.path(sticker.files[limits.TELEGRAM.name].file).read_bytes()


def test_the_first_tap_makes_the_members_set_with_every_sticker_and_their_own(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, member_id = _member(app, clock, bot_api)
    assert "Add to Telegram</button>" in client.get(PAGE).text
    page = _tap(client)
    name = _name(app, member_id)
    url = f"https://t.me/addstickers/{name}"
    assert f"Your pack is in Telegram: {url}." in page
    assert f'<a href="{url}">' in page  # the set's link stays on the page
    assert not bot_api.errors
    made = bot_api.sticker_sets[name]
    assert made.title == "Tiny Birds" and made.owner == CHAT
    assert name.startswith("tiny_birds_") and name.endswith(f"_by_{BOT_USERNAME}")
    assert len(name) <= 64 and str(member_id) not in name.removeprefix("tiny_birds_")[:10]
    files = _set_files(bot_api, name)
    assert [f for f, _ in files[:3]] == [_telegram_file(pack, s["file"]) for s in STICKERS]
    assert [e for _, e in files] == [["🐦"], ["👋", "🐦"], ["😄"], ["💌"]]
    assert all(s.upload.width == 512 or s.upload.height == 512 for s in made.stickers)
    assert len(bot_api.calls("uploadStickerFile")) == 4
    assert all(str(c.params["user_id"]) == str(CHAT) for c in bot_api.calls("uploadStickerFile"))
    [said] = bot_api.messages(CHAT)
    assert said.text == f"Your pack Tiny Birds is ready: {url}"


def test_a_second_tap_finds_the_same_set_and_uploads_nothing(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, member_id = _member(app, clock, bot_api)
    _tap(client)
    uploads, before = (
        len(bot_api.calls("uploadStickerFile")),
        _set_files(bot_api, _name(app, member_id)),
    )
    page = _tap(client)
    assert "Your pack is already in Telegram: https://t.me/addstickers/" in page
    assert len(bot_api.calls("uploadStickerFile")) == uploads
    for method in ("createNewStickerSet", "addStickerToSet", "deleteStickerFromSet"):
        assert len(bot_api.calls(method)) == (1 if method == "createNewStickerSet" else 0)
    assert not bot_api.calls("setStickerPositionInSet")
    assert list(bot_api.sticker_sets) == [_name(app, member_id)]
    assert _set_files(bot_api, _name(app, member_id)) == before
    assert len(bot_api.messages(CHAT)) == 2  # each tap is answered in the chat


def test_a_rebuilt_pack_updates_the_set_instead_of_making_another(
    app: Flask,
    clock: Clock,
    bot_api: BotApiPeer,
    pack: BuiltPack,
    stickers_dir: Path,
    pool: ProcessPoolExecutor,
) -> None:
    client, member_id = _member(app, clock, bot_api)
    _tap(client)
    name = _name(app, member_id)
    # s2 leaves the pack, s4 joins it between s1 and s3
    new = [STICKERS[0], {"file": "s4.png", "emojis": ["⭐"], "alt": "A purple dot"}, STICKERS[2]]
    _write(stickers_dir, new)
    rebuilt = _build(app, stickers_dir, pool)
    assert rebuilt.hash != pack.hash
    uploads = len(bot_api.calls("uploadStickerFile"))
    page = _tap(client)
    assert f"Your pack is up to date in Telegram: https://t.me/addstickers/{name}." in page
    assert list(bot_api.sticker_sets) == [name]
    assert len(bot_api.calls("createNewStickerSet")) == 1
    assert len(bot_api.calls("uploadStickerFile")) == uploads + 1  # only the new sticker
    assert len(bot_api.calls("addStickerToSet")) == 1
    assert len(bot_api.calls("deleteStickerFromSet")) == 1
    assert bot_api.calls("setStickerPositionInSet")
    files = _set_files(bot_api, name)
    assert [f for f, _ in files[:3]] == [_telegram_file(rebuilt, s["file"]) for s in new]
    assert [e for _, e in files] == [["🐦"], ["⭐"], ["😄"], ["💌"]]
    # and once more: nothing left to do
    calls = len(bot_api.requests)
    _tap(client)
    assert [r.method for r in bot_api.requests[calls:]] == ["getStickerSet", "sendMessage"]


def test_a_member_who_did_not_earn_the_pack_is_refused_and_telegram_is_not_asked(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api, holds=False)
    assert "Add to Telegram" not in client.get(PAGE).text
    response = post_form(client, ADD, {}, page=PAGE)
    assert response.status_code == 403
    assert bot_api.requests == []
    assert bot_api.sticker_sets == {}


def test_a_post_without_the_forms_token_does_nothing(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api)
    assert client.post(ADD).status_code == 400
    assert app.test_client().post(ADD).status_code == 400  # a visitor
    assert bot_api.requests == []


def test_taps_are_limited_per_member(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api, linked=False)
    statuses = [post_form(client, ADD, {}, page=PAGE).status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]


def test_a_member_who_did_not_link_telegram_is_pointed_to_the_permissions_page(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api, linked=False)
    page = client.get(PAGE).text
    assert "Add to Telegram</button>" not in page
    assert "Permissions → Link Telegram" in page
    assert 'href="/permissions#telegram"' in page or "#telegram" in page
    assert f"/stickers/{SLUG}/download/telegram.zip" in page  # the downloads stay
    response = post_form(client, ADD, {}, page=PAGE)
    assert response.status_code == 302
    assert "Link Telegram on your permissions page first." in client.get(PAGE).text
    assert bot_api.requests == []


def test_a_member_who_blocked_the_bot_is_told_so_plainly(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api)
    with app.app_context():
        links.mark_blocked(CHAT, app_clock.now())
        db.session.commit()
    page = client.get(PAGE).text
    assert "You blocked our bot in Telegram" in page and "Add to Telegram</button>" not in page
    response = post_form(client, ADD, {}, page=PAGE)
    assert response.status_code == 302
    assert "You blocked our bot in Telegram, so it cannot add the pack." in client.get(PAGE).text
    assert bot_api.requests == []


def test_a_bot_blocked_since_the_last_visit_still_gives_the_link_and_marks_the_chat(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, member_id = _member(app, clock, bot_api)
    bot_api.block(CHAT)
    page = _tap(client)
    name = _name(app, member_id)
    assert f"Your pack is in Telegram: https://t.me/addstickers/{name}." in page
    assert "Our bot sent you the link" not in page
    with app.app_context():
        chat = db.session.get(TelegramChat, member_id)
        assert chat is not None and chat.blocked_at is not None


def test_a_set_deleted_in_telegram_is_made_again_under_the_same_name(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, member_id = _member(app, clock, bot_api)
    _tap(client)
    name = _name(app, member_id)
    del bot_api.sticker_sets[name]  # the member deleted it with @Stickers
    page = _tap(client)
    assert f"Your pack is in Telegram: https://t.me/addstickers/{name}." in page
    assert len(bot_api.sticker_sets[name].stickers) == 4
    with app.app_context():
        assert db.session.get(TelegramStickerSet, (member_id, SLUG)) is not None


def test_the_set_is_in_the_data_export_and_goes_with_the_account(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, member_id = _member(app, clock, bot_api)
    _tap(client)
    with app.app_context():
        member = db.session.get_one(Member, member_id)
        [exported] = export_member(member, clock())["telegram_sticker_sets"]
        assert exported["pack"] == SLUG
        assert exported["url"] == f"https://t.me/addstickers/{_name(app, member_id)}"
        delete_member(member, clock())
        db.session.commit()
        assert db.session.scalars(select(TelegramStickerSet)).all() == []
        assert db.session.scalars(select(TelegramSetSticker)).all() == []


@pytest.mark.parametrize(
    ("slug", "bot"),
    [
        ("a", "abcd"),
        ("9-lives", "pullfirst_test_bot"),
        ("x" * 64, "b" * 32),
        ("a--b-", "Some_Bot"),
    ],
)
def test_set_names_are_what_telegram_accepts(slug: str, bot: str) -> None:
    name = set_name(slug, 7, bot, "secret")
    assert limits.telegram_set_name_problem(name) is None
    assert name.endswith(f"_by_{bot}") and len(name) <= 64
    assert set_name(slug, 8, bot, "secret") != name
    assert set_name(slug, 7, bot, "another secret") != name


def test_the_signal_and_whatsapp_how_tos_say_what_each_app_allows(
    app: Flask, clock: Clock, bot_api: BotApiPeer, pack: BuiltPack
) -> None:
    client, _ = _member(app, clock, bot_api)
    page = client.get(PAGE).text
    assert "WhatsApp takes a whole pack only from a sticker app on your phone" in page
    assert (
        "a pack is uploaded from Signal Desktop on a computer, linked to your Signal account"
        in (page)
    )
    for platform in ("whatsapp", "telegram", "signal"):
        assert f'href="/stickers/{SLUG}/download/{platform}.zip"' in page
