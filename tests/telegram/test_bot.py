"""The bot in a member's chat, against the local Bot API peer: linking with a one-time link,
yes and no to a scope's exact sentence, stop by button and by command, replies that join the
campaign's conversation, the team's answer in the chat, and updates by polling and webhook."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.conftest import PASSWORD, Clock
from tests.helpers import post_form, sign_in
from tests.telegram.conftest import WEBHOOK_SECRET, Linked, grant_telegram
from tests.telegram.peer import BOT_USERNAME, BotApiPeer


def poll(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def events(app: Flask, member_id: int) -> list[Any]:
    from app.consent.ledger.consents import history
    from app.extensions import db

    with app.app_context():
        found = history(member_id)
        for event in found:
            db.session.expunge(event)
        return found


def chat_of(app: Flask, member_id: int) -> Any:
    from app.consent.telegram import chat_of as find
    from app.extensions import db

    with app.app_context():
        chat = find(member_id)
        if chat is not None:
            db.session.expunge(chat)
        return chat


def link_token(app: Flask, member: Any) -> str:
    """Press Link Telegram on the permissions page; the token of the t.me link it opens."""
    client = app.test_client()
    sign_in(client, member.email, PASSWORD)
    response = post_form(client, "/me/permissions/telegram/link", {}, page="/me/permissions")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    found = re.search(
        rf'href="https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{32}})"', response.text
    )
    assert found, response.text
    return found.group(1)


@pytest.fixture
def earned(member: Any) -> Any:
    """The ``member`` fixture: confirming the address earned the weekly letter."""
    return member


def test_a_one_time_link_binds_the_chat_and_the_bot_asks_in_the_exact_words(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, earned: Any
) -> None:
    from app.consent.scopes import find_scope

    bot_api.add_user(7001, "Robin", "robin_reads")
    token = link_token(app, earned)
    bot_api.user_sends(7001, f"/start {token}")
    assert "1 updates handled" in poll(runner)
    chat = chat_of(app, earned.id)
    assert chat is not None and chat.chat_id == 7001 and chat.username == "robin_reads"
    said = bot_api.messages(7001)
    assert said[0].text.startswith("Linked to your account")
    with app.app_context():
        wording = find_scope("newsletter").wording
    offer = said[1]
    assert offer.text.endswith(wording)  # the sentence, byte for byte
    buttons = offer.reply_markup["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Yes", "No"]
    # The permissions page now says so.
    client = app.test_client()
    sign_in(client, earned.email, PASSWORD)
    page = client.get("/me/permissions").text
    assert "@robin_reads" in page and "Unlink Telegram" in page


@pytest.mark.parametrize("case", ["used twice", "expired", "forged", "chat taken"])
def test_a_link_that_is_not_good_links_nothing(
    app: Flask,
    runner: FlaskCliRunner,
    bot_api: BotApiPeer,
    earned: Any,
    clock: Clock,
    linked: Linked,
    case: str,
) -> None:
    bot_api.add_user(7001, "Robin")
    token = link_token(app, earned)
    user, expected = 7001, "not valid"
    if case == "used twice":
        bot_api.user_sends(7001, f"/start {token}")
        poll(runner)
        bot_api.add_user(7002, "Someone")
        user, expected = 7002, "already used"
    elif case == "expired":
        clock.advance(minutes=16)
        expected = "out of date"
    elif case == "forged":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    else:
        user, expected = linked.user_id, "linked to another account"
    bot_api.user_sends(user, f"/start {token}")
    poll(runner)
    assert expected in bot_api.messages(user)[-1].text
    if case == "used twice":
        assert chat_of(app, earned.id).chat_id == 7001
    else:
        assert chat_of(app, earned.id) is None
    assert chat_of(app, linked.member_id).chat_id == linked.user_id


def test_yes_is_a_ledger_grant_with_the_words_shown_and_no_records_nothing(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked
) -> None:
    from app.consent.scopes import find_scope

    bot_api.user_sends(linked.user_id, "/start")
    poll(runner)
    offer = bot_api.messages(linked.user_id)[-1]
    no, yes = (
        offer.reply_markup["inline_keyboard"][0][1]["callback_data"],
        offer.reply_markup["inline_keyboard"][0][0]["callback_data"],
    )
    bot_api.user_presses(linked.user_id, offer.message_id, no)
    poll(runner)
    assert events(app, linked.member_id) == []
    assert bot_api.callback_answers  # the button was answered
    bot_api.user_sends(linked.user_id, "/start")
    poll(runner)
    offer = bot_api.messages(linked.user_id)[-1]
    bot_api.user_presses(linked.user_id, offer.message_id, yes)
    poll(runner)
    (event,) = events(app, linked.member_id)
    with app.app_context():
        scope = find_scope("newsletter")
    assert (event.action, event.channel, event.source) == ("grant", "telegram", "telegram")
    assert event.wording == scope.wording and offer.text.endswith(event.wording)
    assert "Yes recorded" in bot_api.messages(linked.user_id)[-1].text
    # The answered offer lost its buttons; pressing again is refused by Telegram's own rule.
    assert bot_api.calls("editMessageReplyMarkup")


def test_a_yes_pressed_under_words_that_changed_is_not_recorded(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked
) -> None:
    bot_api.user_sends(linked.user_id, "/start")
    poll(runner)
    offer = bot_api.messages(linked.user_id)[-1]
    yes = offer.reply_markup["inline_keyboard"][0][0]["callback_data"]
    scopes = app.config["CONTENT_DIR"] + "/scopes.toml"
    with open(scopes) as f:
        text = f.read()
    with open(scopes, "w") as f:
        f.write(
            text.replace("consent_version = 1", "consent_version = 2", 1).replace(
                "Yes, send me the weekly letter.", "Yes, send me the weekly letter, please.", 1
            )
        )
    bot_api.user_presses(linked.user_id, offer.message_id, yes)
    poll(runner)
    assert events(app, linked.member_id) == []
    again = bot_api.messages(linked.user_id)[-1]
    assert "send me the weekly letter, please." in again.text


def test_stop_all_and_unlink_in_the_chat(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    grant_telegram(app, linked.member_id, clock() - timedelta(days=2))
    bot_api.user_sends(linked.user_id, "/stop all")
    poll(runner)
    (revoke,) = [e for e in events(app, linked.member_id) if e.action == "revoke"]
    assert (revoke.action, revoke.channel, revoke.wording) == ("revoke", "telegram", "/stop all")
    assert "Stopped everything" in bot_api.messages(linked.user_id)[-1].text
    bot_api.user_sends(linked.user_id, "/unlink")
    poll(runner)
    assert chat_of(app, linked.member_id) is None
    bot_api.user_sends(linked.user_id, "hello?")
    poll(runner)
    assert "not linked" in bot_api.messages(linked.user_id)[-1].text


def test_an_update_delivered_twice_acts_once(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    grant_telegram(app, linked.member_id, clock() - timedelta(days=2))
    client = app.test_client()
    update = bot_api.user_sends(linked.user_id, "/stop all")
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    for _ in range(2):
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
    assert len([e for e in events(app, linked.member_id) if e.action == "revoke"]) == 1
    assert len(bot_api.messages(linked.user_id)) == 1


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 403), ("x" * 40, 403), (WEBHOOK_SECRET, 200)]
)
def test_the_webhook_reads_only_posts_with_the_secret(
    app: Flask, bot_api: BotApiPeer, linked: Linked, secret: str | None, status: int
) -> None:
    update = bot_api.user_sends(linked.user_id, "/help")
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    response = app.test_client().post("/telegram/webhook", json=update, headers=headers)
    assert response.status_code == status
    assert len(bot_api.messages(linked.user_id)) == (1 if status == 200 else 0)


def test_without_a_webhook_secret_the_address_does_not_exist(
    app: Flask, bot_api: BotApiPeer, linked: Linked
) -> None:
    app.config["TELEGRAM_WEBHOOK_SECRET"] = None
    update = bot_api.user_sends(linked.user_id, "/help")
    response = app.test_client().post("/telegram/webhook", json=update)
    assert response.status_code == 404


def test_the_webhook_takes_updates_as_telegram_posts_them(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked
) -> None:
    from app.telegram.bot import bot

    client = app.test_client()
    with app.app_context(), bot() as api:
        api.set_webhook("https://journal.example/telegram/webhook", WEBHOOK_SECRET, None)
    bot_api.user_sends(linked.user_id, "/help")

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        assert url == "https://journal.example/telegram/webhook"
        return client.post("/telegram/webhook", data=body, headers=headers).status_code

    assert bot_api.deliver_updates(post) == [200]
    assert "/stop all" in bot_api.messages(linked.user_id)[-1].text


def test_unlinking_on_the_permissions_page(app: Flask, linked: Linked) -> None:
    from app.extensions import db

    with app.app_context():
        from app.accounts.models import Member

        member = db.session.scalars(select(Member).where(Member.id == linked.member_id)).one()
        from app.accounts.passwords import hash_password

        member.password_hash = hash_password(PASSWORD)
        db.session.commit()
    client = app.test_client()
    sign_in(client, linked.email, PASSWORD)
    response = post_form(client, "/me/permissions/telegram/unlink", {}, page="/me/permissions")
    assert response.status_code == 302
    assert chat_of(app, linked.member_id) is None
