"""Members' mobile numbers: reading what a member types (``parse_number``), proving a number
with a texted code on the permissions page (wrong, spent and late codes), one member per
number, the limits per number, member and client, removing the number, the yes by text that
needs a proven number and is confirmed by a text of the exact words, SMS switched off, and
the number in the data export and in account deletion.

Kannel is configured on a loopback port nobody listens on, so every text stays ``queued`` in
``sms_messages``, where the tests read the code as the phone would."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.consent.errors import PhoneError
from app.consent.phones import UNUSABLE, parse_number
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.consent.pages import can_switch_on, save_switches, switch
from tests.helpers import csrf_token, free_port, post_form, sign_in

UK, US, DE = "+447911123456", "+12015550123", "+4915123456789"
CODE = re.compile(r"your code is (\d{6})\.")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Kannel on a port nobody listens on: texts are queued, never handed over."""
    return {**app_config, "SMS_SENDSMS_URL": f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"}


def new_member(app: Flask, clock: Clock, email: str) -> int:
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        created = members.create_member(email, PASSWORD, now=clock(), verified=True)
        world.earn(created.id, "offers", clock() - timedelta(days=1))
        db.session.commit()
        return created.id


def signed_in(app: Flask, clock: Clock, email: str, ip: str = "127.0.0.1") -> FlaskClient:
    """A browser at ``ip`` signed in as a new member who earned ``offers``."""
    new_member(app, clock, email)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ip
    sign_in(browser, email, PASSWORD)
    return browser


@pytest.fixture
def robin(app: Flask, clock: Clock) -> FlaskClient:
    return signed_in(app, clock, "robin@example.com")


def add_number(browser: FlaskClient, typed: str, **kwargs: Any) -> TestResponse:
    return post_form(
        browser,
        "/me/permissions/sms/number",
        {"phone-number": typed},
        page="/me/permissions",
        **kwargs,
    )


def type_code(browser: FlaskClient, code: str) -> TestResponse:
    return post_form(
        browser, "/me/permissions/sms/verify", {"code-code": code}, page="/me/permissions"
    )


def texts_to(app: Flask, number: str, kind: str | None = None) -> list[Any]:
    from app.consent.models import SmsMessage
    from app.extensions import db

    with app.app_context():
        query = select(SmsMessage).where(SmsMessage.number == number).order_by(SmsMessage.id)
        if kind is not None:
            query = query.where(SmsMessage.kind == kind)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def last_code(app: Flask, number: str) -> str:
    """The code in the latest code text to ``number``, as the phone would show it."""
    found = CODE.search(texts_to(app, number, "code")[-1].text)
    assert found is not None
    return found.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def member_of_number(app: Flask, number: str) -> int | None:
    from app.consent import phones

    with app.app_context():
        return phones.member_of_number(number)


def prove(app: Flask, browser: FlaskClient, number: str) -> None:
    assert add_number(browser, number).status_code == 302
    assert type_code(browser, last_code(app, number)).status_code == 302


def count(app: Flask, model: Any, *where: Any) -> int:
    from app.extensions import db

    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- reading a number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("+44 7911 123456", "", UK),
        ("+1 (201) 555-0123", "", US),
        ("  +49 151 23456789 ", "", DE),
        ("07911 123456", "GB", UK),
        ("(201) 555-0123", "US", US),
        ("+4915123456789", "GB", DE),  # an international number ignores the region
    ],
)
def test_a_mobile_number_is_read_into_e164(typed: str, region: str, expected: str) -> None:
    assert parse_number(typed, region) == expected


@pytest.mark.parametrize(
    ("typed", "region", "words"),
    [
        ("", "", "Type your mobile number."),
        ("   ", "GB", "Type your mobile number."),
        ("07911 123456", "", "Type the number with + and its country code"),
        ("+44 7911 12345", "", "not a valid phone number"),  # a digit short
        ("+44 7700 900123", "", "not a valid phone number"),  # reserved for drama, not real
        ("call me maybe", "GB", "does not read as a phone number"),
        ("+44 20 7183 8750", "", "cannot receive texts: use a mobile number"),  # London
        ("030 12345678", "DE", "cannot receive texts: use a mobile number"),  # Berlin
        ("+44 7911 123456 " + "0" * 20, "", "too long"),
    ],
)
def test_what_is_not_a_textable_number_is_refused_with_what_to_fix(
    typed: str, region: str, words: str
) -> None:
    with pytest.raises(PhoneError, match=re.escape(words)):
        parse_number(typed, region)


# --- proving a number -------------------------------------------------------------------------


def test_adding_a_number_queues_a_code_text_and_says_it_could_not_be_texted_yet(
    app: Flask, robin: FlaskClient
) -> None:
    response = add_number(robin, "+44 7911 123456")
    assert response.status_code == 302 and response.headers["Location"].endswith("#sms")
    (text,) = texts_to(app, UK)
    assert (text.direction, text.kind, text.state) == ("out", "code", "queued")
    assert text.attempts == 1 and "not reachable" in (text.error or "")
    assert CODE.search(text.text) is not None and "It works for 10 minutes" in text.text
    page = robin.get("/me/permissions").text
    assert "We could not text +44 7911 123456 just now" in page
    assert "We texted a code to +44 7911 123456. It works for 10 minutes." in page
    assert 'name="code-code"' in page
    assert member_of_number(app, UK) is None  # not theirs until the code comes back


def test_the_right_code_makes_the_number_the_members_and_the_page_shows_it(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    add_number(robin, UK)
    clock.advance(minutes=9)
    response = type_code(robin, " ".join(last_code(app, UK)[i : i + 3] for i in (0, 3)))
    assert response.status_code == 302
    page = robin.get("/me/permissions").text
    assert "+44 7911 123456 is your number here." in page
    assert "is <strong>+44 7911 123456</strong>, proven on" in page
    assert 'name="code-code"' not in page  # the code is spent
    robin_id = member_of_number(app, UK)
    assert robin_id is not None
    again = add_number(robin, UK)
    assert again.status_code == 400 and "This number is already yours here." in again.text


def test_wrong_codes_count_down_and_the_fifth_voids_the_code(
    app: Flask, robin: FlaskClient
) -> None:
    from app.consent.models import PhoneProof

    add_number(robin, UK)
    code = last_code(app, UK)
    for left in (4, 3, 2):
        response = type_code(robin, wrong(code))
        assert response.status_code == 400
        assert f"That code is not right. {left} tries left." in response.text
    response = type_code(robin, "12ab56")  # not even digits: a try all the same
    assert "That code is not right. 1 try left." in response.text
    assert type_code(robin, wrong(code)).status_code == 400
    assert count(app, PhoneProof, PhoneProof.attempts == 5) == 1
    assert type_code(robin, code).status_code == 400  # the right code, too late
    assert member_of_number(app, UK) is None
    assert 'name="code-code"' not in robin.get("/me/permissions").text


def test_a_code_is_out_of_date_after_ten_minutes_and_a_new_one_works(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    add_number(robin, UK)
    old = last_code(app, UK)
    clock.advance(minutes=10)
    assert 'name="code-code"' not in robin.get("/me/permissions").text
    assert type_code(robin, old).status_code == 400
    assert member_of_number(app, UK) is None
    add_number(robin, UK)
    new = last_code(app, UK)
    if new != old:  # one in a million they are the same
        assert type_code(robin, old).status_code == 400
    assert type_code(robin, new).status_code == 302
    assert member_of_number(app, UK) is not None


def test_typing_a_code_before_asking_for_one_changes_nothing(
    app: Flask, robin: FlaskClient
) -> None:
    assert type_code(robin, "123456").status_code == 400
    assert member_of_number(app, UK) is None


def test_a_number_another_member_proved_reads_as_free_and_its_owner_is_told_by_text(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    from app.consent.models import SmsMessage
    from app.extensions import db

    prove(app, robin, UK)
    sam = signed_in(app, clock, "sam@example.com")
    taken = add_number(sam, "+44 7911 123456", follow_redirects=True)
    free = add_number(sam, US, follow_redirects=True)
    # The page answers the same for a number somebody holds and for a free one.
    assert "We could not text +44 7911 123456 just now" in taken.text
    assert "We could not text +1 201-555-0123 just now" in free.text
    assert "robin@example.com" not in taken.text and "already" not in taken.text
    with app.app_context():
        to_robin = db.session.scalars(
            select(SmsMessage).where(SmsMessage.number == UK).order_by(SmsMessage.id)
        ).all()
        robins_code = CODE.search(to_robin[0].text)
        assert robins_code is not None  # Robin's own code, from when Robin proved it
        assert "already on another one" in to_robin[-1].text and to_robin[-1].member_id is None
    for code in ("000000", "123456", robins_code.group(1)):
        assert type_code(sam, code).status_code == 400
    assert member_of_number(app, UK) is not None
    assert "+44 7911 123456" not in str(sam.get("/me/permissions/export").get_json())


def test_a_number_proven_by_another_member_while_a_code_was_out_stays_theirs(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    from app.consent.models import PhoneNumber

    sam = signed_in(app, clock, "sam@example.com")
    add_number(sam, UK)
    sams_code = last_code(app, UK)
    prove(app, robin, UK)
    robin_id = member_of_number(app, UK)
    response = type_code(sam, sams_code)
    assert response.status_code == 400 and "robin@example.com" not in response.text
    assert member_of_number(app, UK) == robin_id and count(app, PhoneNumber) == 1
    assert "is your number here" not in sam.get("/me/permissions").text


def _last_try(app: Flask, browser: FlaskClient, clock: Clock) -> TestResponse:
    add_number(browser, UK)
    code = last_code(app, UK)
    for _ in range(4):
        type_code(browser, wrong(code))
    return type_code(browser, wrong(code))


def _spent(app: Flask, browser: FlaskClient, clock: Clock) -> TestResponse:
    _last_try(app, browser, clock)
    return type_code(browser, last_code(app, UK))


def _late(app: Flask, browser: FlaskClient, clock: Clock) -> TestResponse:
    add_number(browser, UK)
    clock.advance(minutes=10)
    return type_code(browser, last_code(app, UK))


def _unasked(app: Flask, browser: FlaskClient, clock: Clock) -> TestResponse:
    return type_code(browser, "123456")


def _taken_meanwhile(app: Flask, browser: FlaskClient, clock: Clock) -> TestResponse:
    add_number(browser, UK)
    code = last_code(app, UK)
    prove(app, signed_in(app, clock, "sam@example.com"), UK)
    return type_code(browser, code)


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        (_last_try, "That code is not right, and it was the last try: ask for a new one."),
        (_spent, "Too many wrong codes: ask for a new one."),
        (_late, "This code is out of date (codes work for 10 minutes): ask for a new one."),
        (_unasked, "Ask for a code first."),
        (_taken_meanwhile, UNUSABLE),
    ],
    ids=["last-try", "spent", "late", "unasked", "taken-meanwhile"],
)
def test_the_member_is_told_why_a_code_no_longer_works(
    app: Flask, robin: FlaskClient, clock: Clock, steps: Any, words: str
) -> None:
    response = steps(app, robin, clock)
    assert response.status_code == 400
    assert words in response.text


# --- limits -----------------------------------------------------------------------------------


def test_a_fourth_code_to_one_number_within_an_hour_is_refused(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    for _ in range(3):
        assert add_number(robin, UK).status_code == 302
        clock.advance(minutes=5)
    response = add_number(robin, UK)
    assert response.status_code == 400
    assert "Too many codes were sent for this number in the last" in response.text
    assert len(texts_to(app, UK, "code")) == 3
    sam = signed_in(app, clock, "sam@example.com")  # the number's limit holds for everyone
    assert "Too many codes were sent for this number" in add_number(sam, UK).text
    clock.advance(minutes=46)  # the first code is an hour old
    assert add_number(robin, UK).status_code == 302
    assert len(texts_to(app, UK, "code")) == 4


def test_the_hourly_limit_reads_as_plain_english(app: Flask, robin: FlaskClient) -> None:
    for _ in range(3):
        add_number(robin, UK)
    response = add_number(robin, UK)
    assert "Too many codes were sent for this number in the last hour." in response.text


def test_a_sixth_code_for_one_member_within_an_hour_is_refused(
    app: Flask, robin: FlaskClient
) -> None:
    numbers = (UK, "+447911123457", US, "+12015550124", DE)
    for number in numbers:
        assert add_number(robin, number).status_code == 302
    response = add_number(robin, "+4915123456780")
    assert response.status_code == 400
    assert "Too many codes were sent for your account" in response.text
    assert texts_to(app, "+4915123456780") == []


def test_an_eleventh_code_from_one_client_within_an_hour_is_refused(
    app: Flask, clock: Clock
) -> None:
    numbers = iter(f"+4479111234{n:02d}" for n in range(10, 30))
    for email in ("a@example.com", "b@example.com"):
        browser = signed_in(app, clock, email)
        for _ in range(5):
            assert add_number(browser, next(numbers)).status_code == 302
    third = signed_in(app, clock, "c@example.com")
    refused = next(numbers)
    response = add_number(third, refused)
    assert response.status_code == 400
    assert "Too many codes were sent for this connection" in response.text
    assert texts_to(app, refused) == []
    elsewhere = signed_in(app, clock, "d@example.com", ip="192.0.2.7")
    assert add_number(elsewhere, refused).status_code == 302


# --- removing the number ----------------------------------------------------------------------


def test_removing_the_number_forgets_it_and_takes_away_the_sms_yes_form(
    app: Flask, robin: FlaskClient
) -> None:
    prove(app, robin, UK)
    assert can_switch_on(robin.get("/me/permissions").text, "offers", "sms")
    response = post_form(robin, "/me/permissions/sms/remove", {}, page="/me/permissions")
    assert response.status_code == 302
    page = robin.get("/me/permissions").text
    assert "Your number is removed: no more texts from us." in page
    assert "<strong>+44 7911 123456</strong>" not in page and member_of_number(app, UK) is None
    assert not can_switch_on(page, "offers", "sms")
    assert "Add your mobile number</a> to say yes to texts." in page


def test_removing_without_the_csrf_token_removes_nothing(app: Flask, robin: FlaskClient) -> None:
    prove(app, robin, UK)
    robin.post("/me/permissions/sms/remove", data={})
    assert member_of_number(app, UK) is not None


# --- the yes by text --------------------------------------------------------------------------


def test_the_sms_yes_is_offered_only_once_a_number_is_proven(
    app: Flask, robin: FlaskClient
) -> None:
    page = robin.get("/me/permissions").text
    assert not can_switch_on(page, "offers", "sms") and switch(page, "offers", "sms")
    assert '<a href="#sms">Add your mobile number</a> to say yes to texts.' in page
    assert can_switch_on(page, "offers", "email")
    add_number(robin, UK)  # a code out is not a proven number
    assert not can_switch_on(robin.get("/me/permissions").text, "offers", "sms")
    type_code(robin, last_code(app, UK))
    page = robin.get("/me/permissions").text
    assert can_switch_on(page, "offers", "sms")
    assert "Add your mobile number" not in page


def test_a_yes_by_text_is_confirmed_by_a_text_of_exactly_the_words_said_yes_to(
    app: Flask, robin: FlaskClient
) -> None:
    from app.consent.ledger.consents import history
    from app.consent.scopes import get_scope

    prove(app, robin, UK)
    response = save_switches(robin, "offers", on=("sms",))
    assert response.status_code == 302
    with app.app_context():
        words = get_scope("offers").wording_for("sms")
        member_id = member_of_number(app, UK)
        assert member_id is not None
        (grant,) = history(member_id)
        assert (grant.action, grant.channel, grant.wording) == ("grant", "sms", words)
    (confirmation,) = texts_to(app, UK, "confirmation")
    assert confirmation.state == "queued" and confirmation.member_id == member_id
    quoted = re.fullmatch(
        r"Pullfirst: you said yes to Member offers by text, to these words: "
        r"\u201c(.*)\u201d",
        confirmation.text,
        re.S,
    )
    assert quoted is not None and quoted.group(1) == words
    assert "STOP" in words  # the carriers' terms are part of the words


def test_with_sms_off_the_page_and_the_form_say_the_site_does_not_send_texts(
    app: Flask, robin: FlaskClient
) -> None:
    app.config["SMS_SENDSMS_URL"] = None
    page = robin.get("/me/permissions").text
    assert "This site does not send texts yet." in page
    assert 'name="phone-number"' not in page
    assert not can_switch_on(page, "offers", "sms")
    token = csrf_token(page)
    response = robin.post(
        "/me/permissions/sms/number", data={"phone-number": UK, "csrf_token": token}
    )
    assert response.status_code == 400 and "This site does not send texts yet." in response.text
    assert texts_to(app, UK) == []


# --- the member's data ------------------------------------------------------------------------


def test_the_export_holds_the_number_and_its_texts(app: Flask, robin: FlaskClient) -> None:
    prove(app, robin, UK)
    response = robin.get("/me/permissions/export")
    assert response.status_code == 200
    data = response.get_json(force=True)["consent"]
    phone = data["phone"]
    assert phone["number"] == UK and phone["verified_at"] and phone["failed_for_good"] is False
    (text,) = data["text_messages"]
    assert (text["direction"], text["number"], text["kind"], text["state"]) == (
        "out",
        UK,
        "code",
        "queued",
    )
    assert CODE.search(text["text"]) is not None


def test_the_export_of_a_member_without_a_number_says_so(robin: FlaskClient) -> None:
    data = robin.get("/me/permissions/export").get_json(force=True)["consent"]
    assert data["phone"] is None and data["text_messages"] == []


def test_deleting_the_account_deletes_the_number_its_texts_codes_and_suppression(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    from app.consent import phones
    from app.consent.models import PhoneCodeSent, PhoneNumber, SmsMessage, Suppression
    from app.extensions import db

    prove(app, robin, UK)
    add_number(robin, DE)  # a code still out to another number
    with app.app_context():
        phones.mark_failed(UK, clock())
        db.session.commit()
    before = (
        count(app, SmsMessage, SmsMessage.number.in_((UK, DE))),
        count(app, PhoneCodeSent, PhoneCodeSent.number.in_((UK, DE))),
        count(app, Suppression, Suppression.address_key == UK),
    )
    assert before == (2, 2, 1)
    response = post_form(robin, "/me/permissions/delete", {"password": PASSWORD, "understood": "y"})
    assert response.status_code == 302
    assert count(app, PhoneNumber) == 0
    assert count(app, SmsMessage, SmsMessage.number.in_((UK, DE))) == 0
    assert count(app, PhoneCodeSent, PhoneCodeSent.number.in_((UK, DE))) == 0
    assert count(app, Suppression, Suppression.address_key == UK) == 0


def test_deleting_one_account_keeps_another_members_number_and_texts(
    app: Flask, robin: FlaskClient, clock: Clock
) -> None:
    from app.consent.models import PhoneNumber, SmsMessage

    sam = signed_in(app, clock, "sam@example.com")
    prove(app, sam, US)
    prove(app, robin, UK)
    post_form(robin, "/me/permissions/delete", {"password": PASSWORD, "understood": "y"})
    assert count(app, PhoneNumber, PhoneNumber.number == US) == 1
    assert count(app, SmsMessage, SmsMessage.number == US) == 1


def test_a_campaign_by_text_is_refused_while_the_site_sends_no_texts(
    app: Flask, clock: Clock
) -> None:
    from app.notify.campaigns import Draft, create_campaign
    from app.notify.errors import CampaignError

    draft = Draft("Offer", "A fifth off.", "offers", "promotional", ("email", "sms"))
    app.config["SMS_SENDSMS_URL"] = None
    with app.app_context(), pytest.raises(CampaignError, match="does not send texts"):
        create_campaign(draft, None, clock())
    app.config["SMS_SENDSMS_URL"] = f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"
    with app.app_context():
        assert create_campaign(draft, None, clock()).channel_list == ["email", "sms"]


def test_a_client_may_type_codes_only_so_often_whatever_the_account(
    app: Flask, clock: Clock
) -> None:
    browsers = [signed_in(app, clock, f"guess{n}@example.com", ip="203.0.113.9") for n in range(3)]
    statuses = [type_code(browsers[n % 3], "000000").status_code for n in range(41)]
    assert statuses[:40] == [400] * 40  # wrong, and said so
    assert statuses[40] == 429
