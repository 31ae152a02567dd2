"""Members see their survey answers on their rewards page and correct them: signed in, with
CSRF, checked like the first answers, even after the survey closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.engage.models import SurveyResponse
from app.engage.responses import get_survey
from app.extensions import db
from tests.conftest import Clock
from tests.engage.conftest import SignedIn
from tests.helpers import csrf_token, post_form

SURVEY = "/surveys/reader-2026/"
CORRECT = "/surveys/reader-2026/correct"
ANSWERS = {
    "q.role": "Editorial or content",
    "q.topics": ["Case studies from real teams", "Email deliverability"],
    "q.usefulness": "4",
    "q.recommend": "9",
    "q.next-article": "Loyalty without an app.",
}


@pytest.fixture(autouse=True)
def _inside_the_survey_window(clock: Clock) -> None:
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))


def _stored(app: Flask) -> SurveyResponse:
    with app.app_context():
        found = db.session.scalars(select(SurveyResponse)).one()
        db.session.expunge(found)
        return found


@pytest.fixture
def answered(signed_in: SignedIn) -> FlaskClient:
    client = signed_in("reader@example.com")
    assert post_form(client, SURVEY, ANSWERS).status_code == 302
    return client


def test_the_rewards_page_lists_the_answers_by_title_and_links_to_correct_them(
    answered: FlaskClient,
) -> None:
    page = answered.get("/me/rewards").text
    assert "What you told us" in page and "<h3>Reader survey 2026</h3>" in page
    assert "reader-2026</h3>" not in page
    assert "<dt>What best describes your work?</dt><dd>Editorial or content</dd>" in page
    assert (
        "<dt>Which topics do you want more of?</dt>"
        "<dd>Email deliverability, Case studies from real teams</dd>" in page
    )
    assert f'href="{CORRECT}">Correct my answers</a>' in page


def test_the_correction_page_shows_the_answers_and_saves_new_ones(
    app: Flask, answered: FlaskClient, clock: Clock
) -> None:
    form = answered.get(CORRECT).text
    assert 'value="Editorial or content" checked' in form and 'value="9" checked' in form
    assert "Loyalty without an app." in form
    clock.advance(days=2)
    saved = post_form(answered, CORRECT, {**ANSWERS, "q.role": "Marketing or growth"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/rewards")
    stored = _stored(app)
    assert stored.answers["role"] == "Marketing or growth"
    assert stored.corrected_at == clock()
    assert stored.submitted_at < stored.corrected_at
    page = answered.get("/me/rewards").text
    assert "Corrected on 3 December 2026." in page
    assert "<dd>Marketing or growth</dd>" in page


def test_invalid_answers_keep_the_form_with_messages_and_write_nothing(
    app: Flask, answered: FlaskClient
) -> None:
    response = post_form(answered, CORRECT, {**ANSWERS, "q.role": "CEO", "q.usefulness": "9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose one of the answers listed." in page and "Choose a number from 1 to 5." in page
    assert "Nothing was changed." in page
    stored = _stored(app)
    assert stored.answers["role"] == "Editorial or content" and stored.corrected_at is None


def test_a_closed_survey_can_still_be_corrected(
    app: Flask, answered: FlaskClient, clock: Clock
) -> None:
    clock.set(datetime(2027, 8, 1, 10, tzinfo=UTC))
    with app.app_context():
        assert get_survey("reader-2026").state(clock()) == "closed"
    saved = post_form(answered, CORRECT, {**ANSWERS, "q.recommend": "3"})
    assert saved.status_code == 302
    assert _stored(app).answers["recommend"] == 3


def test_correcting_needs_csrf(app: Flask, answered: FlaskClient) -> None:
    response = answered.post(CORRECT, data={**ANSWERS, "q.role": "Marketing or growth"})
    assert response.status_code == 400
    assert _stored(app).answers["role"] == "Editorial or content"
    token = csrf_token(answered.get(CORRECT).text)
    forged = answered.post(CORRECT, data={**ANSWERS, "csrf_token": token + "x"})
    assert forged.status_code == 400


def test_correcting_needs_sign_in(app: Flask, answered: FlaskClient) -> None:
    visitor = app.test_client()
    response = visitor.get(CORRECT)
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    assert visitor.post(CORRECT, data=ANSWERS).status_code in (302, 400)
    assert _stored(app).corrected_at is None


def test_a_survey_the_member_never_answered_is_not_found(signed_in: SignedIn) -> None:
    client = signed_in("new@example.com")
    assert client.get(CORRECT).status_code == 404
    assert client.get("/surveys/no-such-survey/correct").status_code == 404
    assert "What you told us" not in client.get("/me/rewards").text
