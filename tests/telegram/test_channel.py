"""The ``telegram`` channel: campaigns reach linked chats through the whole gate, with tracked
links, "Why did I get this?" and Stop; replies join the conversation and the team's answer
comes back to the chat; a blocked bot, Telegram's 429 and the Bot API's rates are respected."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.conftest import PASSWORD, Clock
from tests.helpers import post_form, sign_in
from tests.notify import rows
from tests.telegram.conftest import Linked, grant_telegram
from tests.telegram.peer import BotApiPeer

BODY = (
    "## Three for the weekend\n\nRead [the first one](https://example.org/a?x=1&y=2) "
    "and *the second* in `two` minutes.\n\n- one\n- two & three\n"
)


def grant(app: Flask, linked: Linked, clock: Clock) -> None:
    grant_telegram(app, linked.member_id, clock() - timedelta(days=7))


def send_campaign(app: Flask, clock: Clock, body: str = BODY) -> int:
    return rows.send_campaign(
        app, clock(), "Weekend reading", body, "newsletter", ("telegram",), "editorial"
    )


def work(app: Flask) -> Counter[str]:
    return rows.work_once(app)


def delivery(app: Flask, campaign_id: int) -> Any:
    return rows.only_delivery(app, campaign_id)


def poll(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output


def test_a_campaign_reaches_the_chat_with_tracked_links_why_and_stop(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    grant(app, linked, clock)
    campaign_id = send_campaign(app, clock)
    assert work(app)["sent"] == 1
    (message,) = bot_api.messages(linked.user_id)
    assert message.html.startswith("<b>Weekend reading</b>")
    assert "<b>Three for the weekend</b>" in message.html and "• two &amp; three" in message.html
    assert '<a href="http://localhost/t/' in message.html  # tracked, like email's links
    assert "You said yes to The weekly letter:" in message.text
    why, stop = message.reply_markup["inline_keyboard"][0]
    assert why["text"] == "Why did I get this?" and why["url"].startswith("http://localhost/why/")
    row = delivery(app, campaign_id)
    assert stop["callback_data"] == f"stop:{row.id}"
    assert row.state == "sent" and row.message_id == str(message.message_id)


def test_nothing_goes_to_a_chat_without_the_telegram_yes(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.extensions import db
    from tests.consent import world

    with app.app_context():  # a yes by email is not a yes on Telegram
        world.consent(
            linked.member_id,
            "newsletter",
            "email",
            granted=True,
            version=1,
            at=clock() - timedelta(days=7),
        )
        db.session.commit()
    send_campaign(app, clock)
    work(app)
    assert bot_api.messages(linked.user_id) == []


def test_the_gate_applies_in_full_at_send_time(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    """A member who unlinked after the outbox was filled gets nothing: ``address``."""
    from app.consent.telegram import unlink
    from app.extensions import db

    grant(app, linked, clock)
    campaign_id = send_campaign(app, clock)
    with app.app_context():
        unlink(linked.member_id)
        db.session.commit()
    work(app)
    assert bot_api.messages(linked.user_id) == []
    row = delivery(app, campaign_id)
    assert (row.state, row.reason) == ("suppressed", "address")


def test_stop_under_the_message_revokes_with_the_words_pressed(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.consent.ledger.consents import history

    grant(app, linked, clock)
    campaign_id = send_campaign(app, clock)
    work(app)
    (message,) = bot_api.messages(linked.user_id)
    stop = message.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot_api.user_presses(linked.user_id, message.message_id, stop)
    poll(runner)
    with app.app_context():
        revoke = history(linked.member_id)[0]
        assert (revoke.action, revoke.channel, revoke.source) == ("revoke", "telegram", "telegram")
        footer = message.text.rsplit("\n", 1)[-1]
        assert revoke.wording == f"{footer}\nStop"  # the words under the message, and the button
    assert delivery(app, campaign_id).unsubscribed_at is not None
    assert "Stopped" in bot_api.messages(linked.user_id)[-1].text


def test_stop_records_the_promise_the_message_showed_though_the_scope_changed_since(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.consent.ledger.consents import history

    grant(app, linked, clock)
    send_campaign(app, clock)
    work(app)
    (message,) = bot_api.messages(linked.user_id)
    shown = message.text.rsplit("\n", 1)[-1]
    scopes = app.config["CONTENT_DIR"] + "/scopes.toml"
    with open(scopes) as f:
        text = f.read()
    with open(scopes, "w") as f:
        f.write(text.replace('about = "the three best new articles"', 'about = "news"', 1))
    stop = message.reply_markup["inline_keyboard"][0][1]["callback_data"]
    bot_api.user_presses(linked.user_id, message.message_id, stop)
    poll(runner)
    with app.app_context():
        revoke = history(linked.member_id)[0]
    assert "three best new articles" in shown
    assert revoke.wording == f"{shown}\nStop"


def test_stop_typed_revokes_the_scope_of_the_last_message(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.consent.ledger.consents import history

    grant(app, linked, clock)
    send_campaign(app, clock)
    work(app)
    bot_api.user_sends(linked.user_id, "/stop")
    poll(runner)
    with app.app_context():
        revoke = history(linked.member_id)[0]
        assert (revoke.action, revoke.scope, revoke.wording) == ("revoke", "newsletter", "/stop")


def test_a_reply_joins_the_conversation_and_the_answer_comes_back_to_the_chat(
    app: Flask, runner: FlaskCliRunner, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.accounts import members
    from app.extensions import db
    from app.notify.models import Reply

    grant(app, linked, clock)
    campaign_id = send_campaign(app, clock)
    work(app)
    bot_api.user_sends(linked.user_id, "Loved the second one. More like it?")
    poll(runner)
    delivery_id = delivery(app, campaign_id).id
    with app.app_context():
        (reply,) = db.session.scalars(select(Reply)).all()
        assert (reply.author, reply.body) == ("member", "Loved the second one. More like it?")
        assert reply.delivery_id == delivery_id
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), verified=True, role="marketer"
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    shown = client.get(f"/admin/campaigns/{campaign_id}").text
    assert (
        "The message in the member&#39;s chat" in shown
        or "The message in the member's chat" in shown
    )
    assert "<b>Three for the weekend</b>" in shown  # Telegram's HTML, as the chat shows it
    page = f"/admin/conversations/{campaign_id}/{linked.member_id}"
    assert "Member · on Telegram" in client.get(page).text  # where the member wrote it
    response = post_form(client, page, {"body": "Yes: every Friday."}, follow_redirects=True)
    assert "and to their Telegram chat" in response.text
    answer = bot_api.messages(linked.user_id)[-1]
    assert "Our team answered" in answer.text and "Yes: every Friday." in answer.text


def test_a_blocked_bot_disables_the_link_and_the_gate_says_so(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    from app.consent.gate.explain import explain
    from app.consent.gate.facts import facts_for
    from app.consent.gate.rules import Campaign
    from app.consent.scopes import find_scope
    from app.consent.telegram import chat_of
    from app.consent.terms import Channel

    grant(app, linked, clock)
    bot_api.block(linked.user_id)
    campaign_id = send_campaign(app, clock)
    work(app)
    row = delivery(app, campaign_id)
    assert (row.state, row.reason) == ("dead", "endpoint-gone")
    with app.app_context():
        assert chat_of(linked.member_id).blocked_at == clock()
        scope = find_scope("newsletter")
        decision, checks = explain(
            facts_for(linked.member_id),
            Campaign.of(scope),
            linked.member_id,
            Channel.TELEGRAM,
            clock() + timedelta(days=8),
        )
        assert "suppressed" in decision.reasons
        assert "The member blocked the bot in Telegram." in {c.fact for c in checks}


def test_telegrams_429_holds_the_delivery_for_the_time_it_asked(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    grant(app, linked, clock)
    bot_api.throttle(None, 40)
    campaign_id = send_campaign(app, clock)
    work(app)
    row = delivery(app, campaign_id)
    assert row.state == "queued" and row.due_at >= clock() + timedelta(seconds=40)
    assert bot_api.messages(linked.user_id) == []
    # At least what Telegram asked; the worker's backoff (with jitter) may add a little.
    assert row.due_at <= clock() + timedelta(seconds=46)
    clock.set(row.due_at + timedelta(seconds=1))
    assert work(app)["sent"] == 1
    assert len(bot_api.messages(linked.user_id)) == 1


def test_a_long_message_ends_with_a_link_to_the_whole_one(
    app: Flask, bot_api: BotApiPeer, linked: Linked, clock: Clock
) -> None:
    grant(app, linked, clock)
    send_campaign(
        app, clock, body="\n\n".join(f"Paragraph {n}: " + "words " * 80 for n in range(20))
    )
    assert work(app)["sent"] == 1
    (message,) = bot_api.messages(linked.user_id)
    assert len(message.text) <= 4096
    assert "Read the whole message" in message.text


def test_the_pacer_spaces_sends_overall_and_per_chat() -> None:
    from app.notify.telegram import Pacer

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacer = Pacer(10, monotonic=lambda: now[0], sleep=sleep)
    for chat in (1, 2, 3):
        pacer.wait(chat)
    assert slept == [0.1, 0.1]  # ten a second in all
    pacer.wait(1)  # chat 1 last heard from 0.2 s ago: one a second per chat
    assert slept[-1] == pytest.approx(0.8)


def test_the_export_holds_the_chat_and_deleting_the_account_forgets_it(
    app: Flask, linked: Linked, clock: Clock
) -> None:
    from app.accounts.models import Member
    from app.accounts.privacy import delete_member
    from app.consent.privacy import export_consent
    from app.consent.telegram import chat_of
    from app.extensions import db

    with app.app_context():
        exported = export_consent(linked.member_id)["telegram"]
        assert exported["chat_id"] == linked.user_id and exported["username"] == "robin_reads"
        delete_member(db.session.get_one(Member, linked.member_id), clock())
        db.session.commit()
        assert chat_of(linked.member_id) is None
