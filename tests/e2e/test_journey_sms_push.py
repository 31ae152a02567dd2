"""Two journeys in Chromium for the channels where members already are.

- **Texts** (a real Kannel, fakesmsc as the phone): prove a number with the code that arrives
  by text, say yes by text, receive the confirmation and a campaign text, reply STOP and see
  the page say no, reply START and see it say yes again.
- **Browser notifications**: say yes on the page; the page then asks the browser, registers
  the real service worker and posts the subscription. Chromium cannot subscribe to a push
  service here, so the test supplies a subscription of a local push service
  (:mod:`tests.push.service`), which checks the VAPID signature and decrypts what the worker
  sends. The decrypted notification is handed to the real service worker through the DevTools
  protocol; it shows, and its click leads to the campaign's tracked link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser import LiveServer
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.e2e.steps import sign_in, snapshot
from tests.kannel import KannelGateway, inbound_recorder, kannel  # noqa: F401 - fixtures
from tests.notify import rows
from tests.push.browser import click_target, deliver_push, grant_notifications, origin_of
from tests.push.service import PushService

SECRET = "k" * 40
NUMBER = "+447911123456"


@pytest.fixture
def sms_inbound_url(live_port: int) -> str:
    return f"http://127.0.0.1:{live_port}/sms/inbound?secret={SECRET}"


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    config = {**app_config, "WEBHOOK_ALLOW_LOOPBACK": True, "SMS_PROGRAM": "Corner Shop"}
    if "kannel" in request.fixturenames:
        gateway: KannelGateway = request.getfixturevalue("kannel")
        config.update(
            SMS_SENDSMS_URL=gateway.sendsms_url,
            SMS_USERNAME=gateway.username,
            SMS_PASSWORD=gateway.password,
            SMS_SENDER=gateway.sender,
            SMS_INBOUND_SECRET=SECRET,
        )
    return config


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service
    assert not service.errors, service.errors


def _reader(app: Flask, member: Any, clock: Clock, scope: str) -> None:
    from app.extensions import db

    with app.app_context():
        world.earn(member.id, scope, clock() - timedelta(days=30))
        db.session.commit()


def _send(app: Flask, clock: Clock, scope: str, channel: str, body: str) -> None:
    rows.send_campaign(app, clock(), "This week in the shop", body, scope, (channel,))
    assert rows.work_once(app)["sent"] == 1


def _sms_row(page: Page) -> Any:
    card = page.locator("#scope-offers")
    return card.get_by_role("row", name=re.compile("Text message"))


def test_prove_a_number_say_yes_by_text_receive_stop_and_start(
    app: Flask,
    page: Page,
    member: Any,
    clock: Clock,
    kannel: KannelGateway,  # noqa: F811
) -> None:
    _reader(app, member, clock, "offers")
    sign_in(page, "reader@example.com", PASSWORD)
    page.goto("/me/permissions")
    expect(_sms_row(page)).to_contain_text("Add your mobile number")
    page.get_by_label("Mobile number").fill("+44 7911 123456")
    page.get_by_role("button", name="Text me a code").click()
    expect(page.locator(".flashes")).to_contain_text("We texted a code")
    code = re.search(r"your code is (\d{6})", kannel.wait_for(NUMBER).text)
    assert code
    page.get_by_label("Code from the text").fill(code.group(1))
    page.get_by_role("button", name="Prove this number").click()
    expect(page.locator("#sms")).to_contain_text("+44 7911 123456")
    snapshot(page, "sms-number-proven")
    page.set_viewport_size({"width": 390, "height": 844})  # the same page on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snapshot(page, "sms-number-proven-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    control = page.locator("#scope-offers form.consent-choices")
    texts = control.get_by_role("switch", name="Text message")
    texts.check()
    expect(control).to_contain_text("Reply STOP to cancel, HELP for help.")
    control.get_by_role("button", name="Save my choices").click()
    expect(_sms_row(page)).to_contain_text("Yes")
    assert "you said yes to Member offers by text" in kannel.wait_for(NUMBER).text

    clock.advance(days=4)  # past the scope's cooldown after a yes
    _send(app, clock, "offers", "sms", "A fifth off [the spring prints](https://shop.example/p).")
    campaign_text = kannel.wait_for(NUMBER).text
    assert campaign_text.startswith("Corner Shop: This week in the shop\nA fifth off")

    kannel.inject(NUMBER, "STOP")
    assert "no more texts from us" in kannel.wait_for(NUMBER).text
    page.reload()
    expect(_sms_row(page)).to_contain_text("No since")
    snapshot(page, "sms-after-stop")
    kannel.inject(NUMBER, "START")
    assert "texts are back on" in kannel.wait_for(NUMBER).text
    page.reload()
    expect(_sms_row(page)).to_contain_text("Yes since")
    page.goto("/me/permissions/history")
    expect(page.locator("main")).to_contain_text("STOP")


def test_say_yes_to_browser_notifications_receive_one_and_follow_its_click(
    app: Flask,
    page: Page,
    member: Any,
    clock: Clock,
    live_server: LiveServer,
    push_service: PushService,
) -> None:
    from app.consent.models import PushSubscription
    from app.extensions import db

    _reader(app, member, clock, "new-stickers")
    subscription, _ = push_service.subscribe()
    grant_notifications(page.context, origin_of(live_server.url))
    sign_in(page, "reader@example.com", PASSWORD)
    page.goto("/me/permissions")
    page.evaluate(
        "(s) => { window.__pullfirstPushSubscription = s; }",
        {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
    )
    control = page.locator("#scope-new-stickers form.consent-choices")
    control.get_by_role("switch", name="Browser notifications").check()
    control.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#push")).to_contain_text("On since")
    row = page.locator("#scope-new-stickers").get_by_role(
        "row", name=re.compile("Browser notifications")
    )
    expect(row).to_contain_text("Yes since")
    snapshot(page, "push-allowed")
    with app.app_context():
        (stored,) = db.session.query(PushSubscription).all()
        assert stored.endpoint == subscription.endpoint

    clock.advance(days=2)
    _send(
        app,
        clock,
        "new-stickers",
        "push",
        f"Spring birds are out: [see the pack]({live_server.url}/stickers/spring-birds/).",
    )
    (message,) = push_service.wait_for(1)
    payload = message.payload
    assert payload["title"] == "This week in the shop"
    assert payload["url"].startswith(f"{live_server.url}/t/")  # the tracked link
    shown = deliver_push(page, payload)
    assert [(n["title"], n["tag"]) for n in shown] == [("This week in the shop", payload["tag"])]
    target = click_target(page, payload["tag"])
    assert target == payload["url"]
    page.goto(target)
    assert page.url == f"{live_server.url}/stickers/spring-birds/"
