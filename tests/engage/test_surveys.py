"""Answering surveys: a visitor keeps their answers through sign-up, answers are checked question
by question, one response per member even under concurrency, and opening dates are respected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts import members
from app.accounts.privacy import export_member
from app.engage.actions import has_action
from app.engage.errors import AlreadyAnswered
from app.engage.models import SurveyResponse
from app.engage.responses import get_survey, submit_response
from app.extensions import db
from app.site.cta import target_problem
from tests.conftest import PASSWORD, Clock
from tests.engage.conftest import MakeMember, SignedIn, write_survey
from tests.helpers import SMTPSink, csrf_token, link_in, post_form, sign_in

SURVEY = "/surveys/reader-2026/"
ANSWERS = {
    "q.role": "Editorial or content",
    "q.topics": ["Case studies from real teams", "Email deliverability"],
    "q.usefulness": "4",
    "q.recommend": "9",
    "q.next-article": "  How small shops run loyalty without an app.  ",
}


@pytest.fixture(autouse=True)
def _inside_the_survey_window(clock: Clock) -> None:
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))


def _stored(app: Flask) -> list[SurveyResponse]:
    with app.app_context():
        return list(db.session.scalars(select(SurveyResponse)))


def test_a_visitor_keeps_their_answers_through_sign_up_and_sends_them_after(
    app: Flask, smtp: SMTPSink
) -> None:
    visitor = app.test_client()
    page = visitor.get(SURVEY).text
    assert "Keep my answers and sign in" in page and "Answering earns" in page
    kept = post_form(visitor, SURVEY, ANSWERS)
    assert kept.status_code == 302 and kept.headers["Location"].endswith("#keep")
    page = visitor.get(SURVEY).text
    assert "Your answers are kept on this device" in page
    assert 'value="Editorial or content" checked' in page
    assert _stored(app) == []

    signup = post_form(
        visitor,
        f"/signup?next={SURVEY}",
        {"email": "new@example.com", "password": PASSWORD, "next": SURVEY},
    )
    assert signup.status_code == 302
    visitor.get(link_in(smtp.wait_for(1)[0], "/verify/"))
    signed = post_form(
        visitor,
        f"/signin?next={SURVEY}",
        {"email": "new@example.com", "password": PASSWORD, "next": SURVEY},
    )
    assert signed.headers["Location"] == SURVEY

    back = visitor.get(SURVEY).text
    assert "Send my answers" in back and 'value="9" checked' in back
    assert "How small shops run loyalty" in back
    sent = visitor.post(SURVEY, data={**ANSWERS, "csrf_token": csrf_token(back)})
    assert sent.status_code == 302 and sent.headers["Location"] == f"{SURVEY}thanks"
    thanks = visitor.get(f"{SURVEY}thanks").text
    assert "Thank you for your answers" in thanks
    assert "Spring birds" in thanks and "Member offers" in thanks  # what the answers earned
    [response] = _stored(app)
    assert response.answers == {
        "role": "Editorial or content",
        "topics": ["Email deliverability", "Case studies from real teams"],  # survey's order
        "usefulness": 4,
        "recommend": 9,
        "next-article": "How small shops run loyalty without an app.",
    }
    with app.app_context():
        assert response.version == get_survey("reader-2026").version
        assert has_action(response.member_id, "survey:reader-2026")
    assert "kept on this device" not in visitor.get(SURVEY).text


@pytest.mark.parametrize(
    ("change", "question", "message"),
    [
        ({"q.role": None}, "role", "Choose an answer."),
        ({"q.role": "Astronaut"}, "role", "Choose one of the answers listed."),
        (
            {"q.role": ["Something else", "Student or researcher"]},
            "role",
            "Choose only one answer.",
        ),
        ({"q.role": "x" * 20_000}, "role", "This answer is too long."),
        (
            {"q.topics": ["Email deliverability", "Gossip"]},
            "topics",
            "Choose among the answers listed.",
        ),
        ({"q.topics": ["Email deliverability"] * 9}, "topics", "Too many answers were sent"),
        ({"q.usefulness": "6"}, "usefulness", "Choose a number from 1 to 5."),
        ({"q.usefulness": "4.0"}, "usefulness", "Choose a number from 1 to 5."),
        ({"q.usefulness": None}, "usefulness", "Choose a number."),
        ({"q.recommend": "-1"}, "recommend", "Choose a number from 0 to 10."),
        ({"q.recommend": "ten"}, "recommend", "Choose a number from 0 to 10."),
        ({"q.next-article": "y" * 501}, "next-article", "Keep it to 500 characters; this has 501."),
        ({"q.next-article": "null\x00byte"}, "next-article", "Remove the control characters"),
        ({"q.next-article": ["one", "two"]}, "next-article", "Send one answer."),
    ],
)
def test_bad_answers_get_a_message_next_to_the_question_and_store_nothing(
    app: Flask, signed_in: SignedIn, change: dict[str, Any], question: str, message: str
) -> None:
    client = signed_in("careful@example.com")
    data = {**ANSWERS, **change}
    data = {k: v for k, v in data.items() if v is not None}
    response = post_form(client, SURVEY, data)
    assert response.status_code == 400
    assert f'<p class="error" id="q-{question}-error">{message}' in response.text.replace(
        "&#39;", "'"
    )
    assert 'aria-invalid="true"' in response.text
    assert "Some answers need a second look." in response.text
    assert _stored(app) == []


def test_optional_questions_may_stay_blank(app: Flask, signed_in: SignedIn) -> None:
    client = signed_in("brief@example.com")
    response = post_form(
        client,
        SURVEY,
        {
            "q.role": "Something else",
            "q.usefulness": "1",
            "q.recommend": "0",
            "q.next-article": "   ",
        },
    )
    assert response.status_code == 302
    [stored] = _stored(app)
    assert stored.answers["topics"] is None and stored.answers["next-article"] is None


def test_a_member_answers_once(app: Flask, signed_in: SignedIn) -> None:
    client = signed_in("once@example.com")
    assert post_form(client, SURVEY, ANSWERS).status_code == 302
    page = client.get(SURVEY).text
    assert "You answered this survey" in page and "Send my answers" not in page
    token = csrf_token(client.get("/redeem").text)
    again = client.post(SURVEY, data={**ANSWERS, "csrf_token": token})
    assert again.status_code == 400 and "You already answered this survey" in again.text
    assert len(_stored(app)) == 1


def test_fifty_concurrent_submissions_give_one_response(
    app: Flask, clock: Clock, make_member: MakeMember
) -> None:
    member_id = make_member("eager@example.com")
    submitted = {"role": ["Something else"], "usefulness": ["5"], "recommend": ["10"]}
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit() -> None:
        with app.app_context():
            survey = get_survey("reader-2026")
            barrier.wait(timeout=60)
            try:
                submit_response(member_id, survey, submitted, clock())
                db.session.commit()
                outcome = "stored"
            except AlreadyAnswered:
                db.session.rollback()
                outcome = "refused"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes.count("stored") == 1 and outcomes.count("refused") == 49
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


TIMED = """---
title: Holiday survey
opens_at: {opens}
closes_at: {closes}
questions:
  - id: best
    type: text
    label: Which gift did you like best?
    required: true
---
Intro.
"""


@pytest.mark.parametrize(
    ("opens", "closes", "shown", "refusal"),
    [
        (
            "2027-01-01",
            "2027-02-01",
            "This survey opens on 1 January 2027.",
            "This survey opens on 1 January 2027.",
        ),
        ("2026-10-01", "2026-11-30", "This survey is closed.", "This survey is closed."),
    ],
)
def test_a_survey_takes_answers_only_between_its_dates(
    app: Flask,
    content: Path,
    signed_in: SignedIn,
    opens: str,
    closes: str,
    shown: str,
    refusal: str,
) -> None:
    write_survey(content, "holiday", TIMED.format(opens=opens, closes=closes))
    client = signed_in("early@example.com")
    page = client.get("/surveys/holiday/").text
    assert shown in page and "<textarea" not in page
    token = csrf_token(page)
    response = client.post("/surveys/holiday/", data={"q.best": "Socks", "csrf_token": token})
    assert response.status_code == 400 and refusal in response.text
    assert _stored(app) == []
    listing = client.get("/surveys/").text
    if "opens" in shown:
        assert "Holiday survey" not in listing  # not listed before it opens
    else:
        assert "Holiday survey" in listing and "closed" in listing


def test_the_survey_list_marks_what_the_member_answered(app: Flask, signed_in: SignedIn) -> None:
    client = signed_in("lister@example.com")
    listing = client.get("/surveys/").text
    assert "Reader survey 2026" in listing and "open until 30 June 2027" in listing
    assert "You answered this one" not in listing
    post_form(client, SURVEY, ANSWERS)
    assert "You answered this one" in client.get("/surveys/").text


def test_the_introduction_is_sanitized(app: Flask, content: Path) -> None:
    write_survey(
        content,
        "sneaky",
        """---
title: Sneaky
questions:
  - {id: a, type: text, label: A}
---
# Welcome

Hello <script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>
[ok](https://example.com)
""",
    )
    page = app.test_client().get("/surveys/sneaky/").text
    assert "<h2>Welcome</h2>" in page and 'href="https://example.com"' in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page


def test_answers_too_long_to_keep_in_the_cookie_are_refused_with_a_way_forward(app: Flask) -> None:
    visitor = app.test_client()
    response = post_form(visitor, SURVEY, {**ANSWERS, "q.next-article": "🦜" * 450})
    assert response.status_code == 400
    assert "too long to keep while you sign in. Sign in first" in response.text


def test_an_unknown_survey_is_a_404_in_the_layout(client: FlaskClient) -> None:
    response = client.get("/surveys/no-such-survey/")
    assert response.status_code == 404 and "There is no survey at this address." in response.text


def test_the_survey_call_to_action_is_a_plain_link_that_opens_no_session(
    app: Flask, signed_in: SignedIn, make_member: MakeMember
) -> None:
    @app.route("/cta-probe")
    def cta_probe() -> str:
        return render_template_string("{{ render_cta('survey:reader-2026', 'article') }}")

    response = app.test_client().get("/cta-probe")
    assert 'href="/surveys/reader-2026/"' in response.text and "Take the survey" in response.text
    # A pack is earned; a scope is only offered, and never switched on for anyone.
    assert "Answering earns Spring birds, and lets us offer you" in response.text
    assert "Member offers" in response.text and "off until you switch it on" in response.text
    assert "csrf" not in response.text and "<form" not in response.text
    assert "Set-Cookie" not in response.headers
    client = signed_in("answered@example.com")
    assert "Take the survey" in client.get("/cta-probe").text
    post_form(client, SURVEY, ANSWERS)
    assert client.get("/cta-probe").text.strip() == ""  # answered: nothing to offer
    with app.app_context():
        assert target_problem("survey:reader-2026") is None
        assert "names no survey" in (target_problem("survey:no-such") or "")


def test_the_data_export_holds_the_response(app: Flask, signed_in: SignedIn, clock: Clock) -> None:
    client = signed_in("exported@example.com")
    post_form(client, SURVEY, ANSWERS)
    with app.app_context():
        member = members.find_by_email("exported@example.com")
        assert member is not None
        data = export_member(member, clock())
    [response] = data["survey_responses"]
    assert response["survey"] == "reader-2026" and response["answers"]["recommend"] == 9
    assert {"action": "survey:reader-2026", "at": clock().isoformat()} in data["actions"]
    assert {e["reward"] for e in data["entitlements"]} >= {"scope:offers", "pack:spring-birds"}


def test_sign_in_keeps_answers_typed_before_it(app: Flask, make_member: MakeMember) -> None:
    make_member("returning@example.com", PASSWORD)
    visitor = app.test_client()
    post_form(visitor, SURVEY, ANSWERS)
    sign_in(visitor, "returning@example.com", PASSWORD)
    assert 'value="Editorial or content" checked' in visitor.get(SURVEY).text
