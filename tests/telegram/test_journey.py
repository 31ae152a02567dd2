"""The Telegram journey in a real browser, with the Bot API peer as Telegram: a member links
Telegram from the permissions page, says yes in the chat, receives a campaign a marketer sent,
replies, gets the team's answer, taps Stop, and adds a sticker pack to Telegram."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import Page, Route, expect

from tests.browser import app_config, live_port, live_server, live_socket  # noqa: F401
from tests.browser import page as page
from tests.conftest import PASSWORD, Clock
from tests.e2e import steps
from tests.telegram.peer import BotApiPeer

pytestmark = pytest.mark.browser

USER = 8001


def make_people(app: Flask, clock: Clock) -> None:
    from app.accounts import members
    from app.extensions import db
    from app.rewards.models import Entitlement

    at = clock() - timedelta(days=10)
    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=at, verified=True, role="marketer"
        )
        reader = members.create_member("reader@example.com", PASSWORD, now=at, verified=True)
        db.session.flush()
        db.session.add(
            Entitlement(
                member_id=reader.id, reward="pack:spring-birds", earned_by="survey:x", earned_at=at
            )
        )
        db.session.commit()


def sign_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    steps.sign_in(page, email, PASSWORD)


def poll(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output


def test_link_say_yes_receive_reply_hear_back_stop_and_add_a_pack(
    app: Flask, page: Page, bot_api: BotApiPeer, clock: Clock
) -> None:
    runner = app.test_cli_runner()
    built = runner.invoke(args=["stickers", "build"])
    assert built.exit_code == 0, built.output
    make_people(app, clock)
    bot_api.add_user(USER, "Robin", "robin_reads")

    # 1. Link: the button opens Telegram (here: the link is caught before it leaves).
    opened: list[str] = []

    def telegram(route: Route) -> None:
        opened.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")

    page.route("https://t.me/**", telegram)
    sign_in(page, "reader@example.com")
    page.goto("/me/permissions")
    page.get_by_role("button", name="Link Telegram").click()
    page.get_by_role("link", name="Open Telegram").click()
    page.wait_for_url(re.compile(r"^https://t\.me/"))
    token = re.fullmatch(r"https://t\.me/\w+\?start=([A-Za-z0-9_-]{32})", opened[0])
    assert token
    bot_api.user_sends(USER, f"/start {token.group(1)}")
    poll(runner)

    # 2. Say yes in the chat, to the sentence shown.
    offer = bot_api.messages(USER)[-1]
    assert offer.reply_markup["inline_keyboard"][0][0]["text"] == "Yes"
    bot_api.user_presses(
        USER, offer.message_id, offer.reply_markup["inline_keyboard"][0][0]["callback_data"]
    )
    poll(runner)
    page.goto("/me/permissions")
    expect(page.locator("#telegram")).to_contain_text("@robin_reads")
    telegram_row = page.get_by_role("row").filter(has_text="Telegram").first
    expect(telegram_row).to_contain_text("Yes since")

    # 3. A week later (past the yes's cooldown, on the letter's Friday), a marketer sends a
    # campaign on Telegram; the worker delivers it.
    clock.advance(days=7)
    sign_in(page, "marketer@example.com")
    page.goto("/admin/campaigns/")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title (the subject of the mail)").fill("Weekend reading")
    page.get_by_label("Message (Markdown)").fill(
        "Three new articles. [Start here](/posts/pull-before-push/)."
    )
    page.get_by_label("Scope").select_option("newsletter")
    page.get_by_label("Kind").select_option("editorial")
    for label in ("Email", "Inbox", "Webhook"):
        page.get_by_label(label, exact=True).uncheck()
    page.get_by_label("Telegram", exact=True).check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".preview-telegram")).to_contain_text("Three new articles.")
    campaign_url = page.url
    page.get_by_role("link", name="Send now…").click()
    page.get_by_role("button", name=re.compile(r"^Yes, send to")).click()
    expect(page.locator(".flashes")).to_contain_text("Queued")
    from app.notify.worker import Worker

    with app.app_context():
        assert Worker(name="journey").run(once=True)["sent"] == 1
    message = bot_api.messages(USER)[-1]
    assert message.text.startswith("Weekend reading") and "Start here" in message.text

    # 4. The member replies in the chat; the marketer answers; the answer reaches the chat.
    bot_api.user_sends(USER, "Can I get these on Saturdays instead?")
    poll(runner)
    page.goto("/admin/conversations/")
    page.locator("main a[href*='/admin/conversations/']").first.click()
    expect(page.locator("main")).to_contain_text("Can I get these on Saturdays instead?")
    page.get_by_label("Answer", exact=True).fill("Fridays only for now, sorry!")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".flashes")).to_contain_text("their Telegram chat")
    assert "Fridays only for now, sorry!" in bot_api.messages(USER)[-1].text

    # 5. Stop under the message: the permissions page says no for Telegram.
    stop = message.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot_api.user_presses(USER, message.message_id, stop)
    poll(runner)
    sign_in(page, "reader@example.com")
    page.goto("/me/permissions")
    telegram_row = page.get_by_role("row").filter(has_text="Telegram").first
    expect(telegram_row).to_contain_text("No since")
    assert campaign_url  # the campaign stays where it was

    # 6. Add a sticker pack to Telegram in one tap.
    page.goto("/stickers/spring-birds/")
    page.get_by_role("button", name="Add to Telegram").click()
    expect(page.locator("main")).to_contain_text("t.me/addstickers/")
    assert len(bot_api.sticker_sets) == 1, page.locator("main").inner_text()
    (name,) = bot_api.sticker_sets
    assert name.lower().endswith(f"_by_{bot_api.bot['username']}".lower())
    assert f"t.me/addstickers/{name}" in bot_api.messages(USER)[-1].text
