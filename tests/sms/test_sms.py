"""Text messages end to end through a real Kannel: a number proven by the code that arrives by
text, the confirmation of a yes, campaign texts with short tracked links and delivery reports,
the carrier keywords from the first text (STOP and its synonyms, START, HELP), replies that join
the conversation (flagged when they ask to stop in other words) and the team's answer by text,
a refusal by the SMS centre that suppresses the number, and texts that wait while Kannel is
down."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.browser import LiveServer
from tests.conftest import PASSWORD, Clock
from tests.consent.pages import can_switch_on, save_switches
from tests.helpers import free_port, post_form, sign_in
from tests.kannel import KannelGateway
from tests.notify import rows
from tests.sms.conftest import NUMBER, SECRET, Texter, grant_sms

BODY = "Members save a fifth this weekend: [see the offer](https://shop.example/offer?x=1&y=2)."


def send_campaign(app: Flask, clock: Clock, body: str = BODY) -> int:
    return rows.send_campaign(
        app, clock(), "Weekend offer", body, "offers", ("sms",), "promotional"
    )


def work(app: Flask) -> Counter[str]:
    return rows.work_once(app)


def delivery(app: Flask, campaign_id: int) -> Any:
    return rows.only_delivery(app, campaign_id)


def texted_campaign(app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock) -> int:
    """A campaign text that reached the texter, who said yes by text a week ago; its id."""
    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    campaign_id = send_campaign(app, clock)
    work(app)
    kannel.wait_for(NUMBER)
    return campaign_id


def marketer(app: Flask, clock: Clock) -> FlaskClient:
    """A client signed in as a new marketer."""
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), verified=True, role="marketer"
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    return client


def events(app: Flask, member_id: int) -> list[Any]:
    from app.consent.ledger.consents import history
    from app.extensions import db

    with app.app_context():
        found = history(member_id)
        for event in found:
            db.session.expunge(event)
        return found


def state(app: Flask, member_id: int, scope: str = "offers") -> Any:
    from app.consent.ledger.consents import states_of

    with app.app_context():
        found = states_of(member_id).get((scope, "sms"))
        return None if found is None else found.granted


def wait_until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


@pytest.fixture
def reader(app: Flask, clock: Clock, member: Any, live_server: LiveServer) -> FlaskClient:
    """``reader@example.com``, who earned ``offers``, signed in."""
    from app.extensions import db
    from tests.consent import world

    with app.app_context():
        world.earn(member.id, "offers", clock() - timedelta(days=30))
        db.session.commit()
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    return client


def test_a_number_is_proven_by_the_code_that_arrives_by_text_and_a_yes_is_confirmed_by_text(
    app: Flask, reader: FlaskClient, kannel: KannelGateway, member: Any
) -> None:
    from app.consent.scopes import get_scope

    page = reader.get("/me/permissions").text
    assert "Add your mobile number</a> to say yes to texts" in page
    assert not can_switch_on(page, "offers", "sms")  # no yes without a number
    response = post_form(
        reader,
        "/me/permissions/sms/number",
        {"phone-number": "+44 7911 123456"},
        page="/me/permissions",
        follow_redirects=True,
    )
    assert "We texted a code to +44 7911 123456" in response.text
    code_text = kannel.wait_for(NUMBER)
    assert code_text.sender == kannel.sender
    code = re.search(r"your code is (\d{6})\.", code_text.text)
    assert code, code_text.text
    assert code_text.text.startswith("Corner Shop: ")
    wrong = f"{(int(code.group(1)) + 1) % 1_000_000:06d}"
    refused = post_form(
        reader, "/me/permissions/sms/verify", {"code-code": wrong}, page="/me/permissions"
    )
    assert refused.status_code == 400 and "That code is not right. 4 tries left." in refused.text
    proven = post_form(
        reader,
        "/me/permissions/sms/verify",
        {"code-code": code.group(1)},
        page="/me/permissions",
        follow_redirects=True,
    )
    assert "+44 7911 123456 is your number here" in proven.text
    assert can_switch_on(proven.text, "offers", "sms")
    with app.app_context():
        scope = get_scope("offers")
        words = scope.wording_for("sms")
    # the SMS words, shown in full: the sentence once, the texts' terms beside the switch
    shown = proven.text.replace("&amp;", "&")
    assert shown.count(scope.wording) == 1 and scope.sms_terms in shown
    assert words == f"{scope.wording} {scope.sms_terms}"
    yes = save_switches(reader, "offers", on=("sms",))
    assert yes.status_code == 302
    confirmation = kannel.wait_for(NUMBER)
    assert confirmation.text == (
        f"Corner Shop: you said yes to Member offers by text, to these words: \u201c{words}\u201d"
    )
    (grant,) = [e for e in events(app, member.id) if e.channel == "sms"]
    assert (grant.action, grant.wording) == ("grant", words)


def test_a_campaign_text_has_short_tracked_links_and_the_reports_mark_it_delivered(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock, live_server: LiveServer
) -> None:
    from app.extensions import db
    from app.notify.models import Click, ShortLink

    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    campaign_id = send_campaign(app, clock)
    assert work(app)["sent"] == 1
    text = kannel.wait_for(NUMBER)
    short = re.search(rf"{re.escape(live_server.url)}/s/([A-Za-z0-9]{{10}})", text.text)
    assert short, text.text
    assert text.text.startswith("Corner Shop: Weekend offer\nMembers save a fifth this weekend")
    assert text.text.endswith("\nReply STOP to cancel")
    assert "shop.example" not in text.text  # the long link stays on our side
    sent = delivery(app, campaign_id)
    wait_until(lambda: delivery(app, campaign_id).delivered_at is not None)
    assert delivery(app, campaign_id).state == "sent"
    with app.app_context():
        from app.notify.models import Campaign
        from app.notify.results import funnel

        assert funnel(db.session.get_one(Campaign, campaign_id))["delivered"] == 1
    followed = app.test_client().get(f"/s/{short.group(1)}")
    assert followed.status_code == 302
    assert followed.headers["Location"] == "https://shop.example/offer?x=1&y=2"
    with app.app_context():
        (click,) = db.session.scalars(select(Click)).all()
        assert click.delivery_id == sent.id
        assert db.session.scalar(select(ShortLink.url).where(ShortLink.code == short.group(1)))
    assert app.test_client().get("/s/AAAAAAAAAA").status_code in (400, 404)


def test_stop_revokes_with_the_typed_text_once_then_silence_and_start_grants_it_back(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock
) -> None:
    from app.consent.scopes import get_scope

    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    kannel.inject(NUMBER, "  Stop ")
    assert state(app, texter.member_id) is False
    revoke = events(app, texter.member_id)[0]
    assert (revoke.action, revoke.source, revoke.wording, revoke.typed) == (
        "revoke",
        "sms",
        "  Stop ",
        "  Stop ",
    )
    answer = kannel.wait_for(NUMBER)
    assert "you will get no more texts from us (Member offers)" in answer.text
    kannel.inject(NUMBER, "STOPALL")  # nothing left on: silence
    kannel.inject(NUMBER, "start")
    back = kannel.wait_for(NUMBER)
    assert "texts are back on: Member offers" in back.text, back.text
    assert state(app, texter.member_id) is True
    grant = events(app, texter.member_id)[0]
    with app.app_context():
        words = get_scope("offers").wording_for("sms")
    assert (grant.action, grant.wording, grant.typed) == ("grant", words, "start")
    assert [m.text for m in kannel.received(timeout=0.5, count=0)] == [
        answer.text,
        back.text,
    ], "the second STOP had an answer"


@pytest.mark.parametrize("word", ["UNSUBSCRIBE", "cancel", "End", "quit", "OPTOUT", "revoke"])
def test_every_stop_synonym_is_a_keyword_from_the_first_text(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock, word: str
) -> None:
    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    kannel.inject(NUMBER, word)
    assert state(app, texter.member_id) is False
    assert events(app, texter.member_id)[0].typed == word


def test_help_says_who_we_are_and_how_to_stop_and_is_logged(
    app: Flask, texter: Texter, kannel: KannelGateway
) -> None:
    from app.consent.models import SmsMessage
    from app.extensions import db

    kannel.inject(NUMBER, "help")
    answer = kannel.wait_for(NUMBER)
    assert answer.text.startswith("Corner Shop: texts only about what you said yes to")
    assert "Reply STOP to cancel" in answer.text and "Msg & data rates may apply" in answer.text
    with app.app_context():
        logged = [(m.direction, m.kind, m.keyword) for m in db.session.scalars(select(SmsMessage))]
    assert ("in", "keyword", "HELP") in logged and ("out", "keyword", "HELP") in logged


def test_stop_texting_me_is_a_reply_flagged_for_the_team_and_the_answer_goes_back_by_text(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.models import Reply

    campaign_id = texted_campaign(app, texter, kannel, clock)
    kannel.inject(NUMBER, "Please stop texting me on Sundays")
    assert state(app, texter.member_id) is True  # not a keyword: nothing stopped
    with app.app_context():
        (reply,) = db.session.scalars(select(Reply)).all()
        assert (reply.body, reply.flag) == ("Please stop texting me on Sundays", "sounds-like-stop")
    client = marketer(app, clock)
    assert "sounds like a request to stop" in client.get("/admin/conversations/").text
    page = f"/admin/conversations/{campaign_id}/{texter.member_id}"
    shown = client.get(page).text
    assert "Member · by text message" in shown and "Sounds like a request to stop" in shown
    response = post_form(client, page, {"body": "Noted: none on Sundays."}, follow_redirects=True)
    assert "by text to their phone" in response.text
    answer = kannel.wait_for(NUMBER)
    assert answer.text == "Corner Shop (Member offers): Noted: none on Sundays."


def test_a_text_from_an_unknown_number_is_logged_and_stop_from_it_is_silent(
    app: Flask, texter: Texter, kannel: KannelGateway
) -> None:
    from app.consent.models import SmsMessage
    from app.extensions import db

    kannel.inject("+12015550123", "Hello?")
    kannel.inject("+12015550123", "STOP")
    with app.app_context():
        logged = [(m.number, m.kind, m.member_id) for m in db.session.scalars(select(SmsMessage))]
    assert logged == [("+12015550123", "unread", None), ("+12015550123", "keyword", None)]
    assert kannel.received(timeout=0.5, count=0) == []


def test_a_refusal_by_the_sms_centre_fails_the_delivery_and_suppresses_the_number(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock
) -> None:
    from app.consent.gate.explain import explain
    from app.consent.gate.facts import load_facts
    from app.consent.gate.rules import Campaign
    from app.consent.scopes import get_scope

    campaign_id = texted_campaign(app, texter, kannel, clock)
    sent = delivery(app, campaign_id)
    client = app.test_client()
    assert (
        client.get(f"/sms/report?secret={SECRET}&status=16&delivery={sent.id}").status_code == 200
    )
    failed = delivery(app, campaign_id)
    assert (failed.state, failed.reason) == ("dead", "undelivered")
    with app.app_context():
        facts = load_facts([texter.member_id])
        lines = explain(facts, Campaign.of(get_scope("offers")), texter.member_id, "sms", clock())
    assert any("failed for good" in str(line) for line in lines)


def test_kannels_calls_need_the_secret(app: Flask, texter: Texter) -> None:
    client = app.test_client()
    assert client.get("/sms/inbound?from=%2B447911123456&text=STOP").status_code == 403
    assert client.get("/sms/inbound?secret=wrong&from=1&text=STOP").status_code == 403
    assert client.get(f"/sms/report?secret={SECRET}&status=x&delivery=1").status_code == 400
    app.config["SMS_INBOUND_SECRET"] = None
    assert client.get(f"/sms/inbound?secret={SECRET}&from=1&text=STOP").status_code == 404


def test_a_code_waits_while_kannel_is_down_and_goes_when_it_is_back(
    app: Flask, reader: FlaskClient, kannel: KannelGateway, runner: Any
) -> None:
    working = app.config["SMS_SENDSMS_URL"]
    app.config["SMS_SENDSMS_URL"] = f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"
    response = post_form(
        reader,
        "/me/permissions/sms/number",
        {"phone-number": NUMBER},
        page="/me/permissions",
        follow_redirects=True,
    )
    assert "could not text +44 7911 123456 just now" in response.text
    app.config["SMS_SENDSMS_URL"] = working
    result = runner.invoke(args=["sms", "flush"])
    assert result.exit_code == 0, result.output
    assert "1 texts handed to Kannel; 0 still waiting." in result.output
    assert "your code is" in kannel.wait_for(NUMBER).text


def test_the_preview_counts_segments_per_member_and_in_total(
    app: Flask, texter: Texter, clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign
    from app.notify.render import prepared_body
    from app.notify.sms import preview_text
    from app.outbound.kannel import segments

    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    body = "Caf\u00e9 \u2615 for members, " * 6 + "[menu](https://shop.example/menu)"
    with app.app_context():
        draft = create_campaign(
            Draft("Coffee week", body, "offers", "promotional", ("sms",)), None, clock()
        )
        db.session.commit()
        expected = segments(preview_text("Corner Shop", "Coffee week", prepared_body(body)))
        campaign_id = draft.id
    assert expected.encoding == "UCS-2" and expected.count == 4
    client = marketer(app, clock)
    shown = client.get(f"/admin/campaigns/{campaign_id}").text
    assert "<strong>4 segments</strong> per member (UCS-2" in shown
    assert "4 segments for the 1 member it would reach now" in shown
    assert "Corner Shop: Coffee week\nCaf\u00e9 \u2615" in shown


def test_a_text_kannel_passes_on_twice_is_acted_on_once(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock
) -> None:
    from app.consent.models import SmsMessage
    from app.extensions import db

    grant_sms(app, texter.member_id, clock() - timedelta(days=7))
    client = app.test_client()
    url = f"/sms/inbound?secret={SECRET}&from=%2B447911123456&text=STOP&id=5d1c-7e"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # Kannel retried: the first answer was lost
    assert [e.action for e in events(app, texter.member_id)] == ["revoke", "grant"]
    with app.app_context():
        logged = db.session.scalars(select(SmsMessage.direction)).all()
    assert sorted(logged) == ["in", "out"]  # one text in, one answer
    kannel.wait_for(NUMBER)


def test_a_report_that_beats_the_workers_record_of_the_send_is_kept(
    app: Flask, texter: Texter, kannel: KannelGateway, clock: Clock
) -> None:
    from sqlalchemy import update

    from app.extensions import db
    from app.notify.models import Delivery
    from app.notify.worker import _SENT
    from app.sms.reports import record_delivery_report

    campaign_id = texted_campaign(app, texter, kannel, clock)
    sent = delivery(app, campaign_id)
    with app.app_context():  # as if the worker had handed the text over and not yet recorded it
        db.session.execute(
            update(Delivery).where(Delivery.id == sent.id).values(state="leased", reason=None)
        )
        record_delivery_report(sent.id, 1)
        record_delivery_report(sent.id, 16)
        db.session.commit()
        assert db.session.get_one(Delivery, sent.id).state == "leased"
        db.session.execute(_SENT, {"delivery_id": sent.id, "at": clock(), "external_id": "x"})
        db.session.commit()
    after = delivery(app, campaign_id)
    assert (after.state, after.reason) == ("dead", "undelivered")
    assert after.delivered_at is not None  # the earlier report stands too
