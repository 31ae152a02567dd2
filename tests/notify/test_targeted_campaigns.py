"""Campaigns for some members only: the filter is checked when saved and sent, the outbox holds
only the members it keeps (the others recorded as ``not-targeted``), the worker honours an
answer corrected since, the preview counts each clause, and the member's "why did I get
this?" page says which answer put them in."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.consent.gate.why import why_url
from app.engage.models import SurveyResponse
from app.engage.responses import correct_response, get_survey
from app.extensions import db
from app.notify.campaigns import Draft, audience_counts, create_campaign, send_now
from app.notify.models import Campaign
from app.notify.results import funnel
from app.notify.states import DeliveryState
from app.notify.targeting import TargetingError
from tests.conftest import CONTENT, PASSWORD, Clock
from tests.helpers import post_form, sign_in
from tests.notify.conftest import Audience
from tests.notify.rows import delivery_rows, only_delivery, work_once

MARKETING = 'survey:reader-2026 role = "Marketing or growth"'


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return folder


@pytest.fixture
def app_config(app_config: dict[str, Any], content: Path) -> dict[str, Any]:
    app_config.update(CONTENT_DIR=str(content))
    return app_config


def _answer(app: Flask, member_id: int, at: datetime, role: str) -> None:
    with app.app_context():
        db.session.add(
            SurveyResponse(
                member_id=member_id,
                survey="reader-2026",
                version="v",
                answers={"role": role, "usefulness": 4, "recommend": 8},
                submitted_at=at,
            )
        )
        db.session.commit()


def _campaign(app: Flask, now: datetime, audience_filter: str | None, send: bool = True) -> int:
    with app.app_context():
        created = create_campaign(
            Draft(
                "For marketers", "Hello.", "newsletter", "editorial", ("inbox",), audience_filter
            ),
            None,
            now,
        )
        if send:
            send_now(created, now)
        db.session.commit()
        return created.id


@pytest.fixture
def three(app: Flask, audience: Audience, clock: Clock) -> list[int]:
    """Three members in the newsletter's audience: a marketer, an editor, one who never
    answered the survey."""
    ids = audience.add(3, channels=("inbox",))
    _answer(app, ids[0], clock(), "Marketing or growth")
    _answer(app, ids[1], clock(), "Editorial or content")
    return ids


def test_the_outbox_holds_only_the_members_the_filter_keeps(
    app: Flask, clock: Clock, three: list[int]
) -> None:
    campaign_id = _campaign(app, clock(), MARKETING)
    assert [row.member_id for row in delivery_rows(app, campaign_id)] == [three[0]]
    with app.app_context():
        campaign = db.session.get_one(Campaign, campaign_id)
        assert campaign.audience_filter == MARKETING
        assert audience_counts(campaign)["inbox"] == {
            "eligible": 1,
            "excluded": {"not-targeted": 2},
            "deferred": 0,
        }
        assert funnel(campaign)["excluded"] == {"not-targeted": 2}


def test_without_a_filter_everyone_in_the_audience_gets_it(
    app: Flask, clock: Clock, three: list[int]
) -> None:
    campaign_id = _campaign(app, clock(), "   ")
    assert sorted(row.member_id for row in delivery_rows(app, campaign_id)) == sorted(three)
    with app.app_context():
        campaign = db.session.get_one(Campaign, campaign_id)
        assert campaign.audience_filter is None
        assert json.loads(campaign.audience or "{}")["inbox"]["excluded"] == {}


def test_a_member_who_corrects_their_answer_drops_out_and_their_queued_message_is_held(
    app: Flask, clock: Clock, three: list[int]
) -> None:
    campaign_id = _campaign(app, clock(), MARKETING)
    assert only_delivery(app, campaign_id).member_id == three[0]
    with app.app_context():
        correct_response(
            three[0],
            get_survey("reader-2026"),
            {"role": ["Editorial or content"], "usefulness": ["4"], "recommend": ["8"]},
            clock(),
        )
        db.session.commit()
    work_once(app)
    delivery = only_delivery(app, campaign_id)
    assert (delivery.state, delivery.reason) == (DeliveryState.SUPPRESSED, "not-targeted")


def test_a_member_who_still_matches_is_sent_it(app: Flask, clock: Clock, three: list[int]) -> None:
    campaign_id = _campaign(app, clock(), MARKETING)
    work_once(app)
    assert only_delivery(app, campaign_id).state == DeliveryState.SENT


def test_a_filter_on_a_question_the_survey_no_longer_has_stops_the_send(
    app: Flask, clock: Clock, content: Path, three: list[int]
) -> None:
    campaign_id = _campaign(app, clock(), MARKETING, send=False)
    survey = content / "surveys" / "reader-2026.md"
    survey.write_text(survey.read_text().replace("id: role", "id: job"))
    with app.app_context():
        campaign = db.session.get_one(Campaign, campaign_id)
        with pytest.raises(TargetingError, match="has no question “role” \\(any more\\)"):
            send_now(campaign, clock())
        db.session.rollback()
    assert delivery_rows(app, campaign_id) == []


def test_a_filter_naming_an_answer_the_question_does_not_offer_is_refused(
    app: Flask, clock: Clock
) -> None:
    with app.app_context(), pytest.raises(TargetingError, match="its answers are"):
        create_campaign(
            Draft("t", "b", "newsletter", "editorial", ("inbox",), "survey:reader-2026 role = CEO"),
            None,
            clock(),
        )


# --- the marketers' screens --------------------------------------------------------------


def _team(app: Flask, marketer: str) -> Any:
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    return client


def _compose(client: Any, audience_filter: str) -> Any:
    return post_form(
        client,
        "/admin/campaigns/new",
        {
            "title": "For marketers",
            "body": "Hello.",
            "scope": "newsletter",
            "kind": "editorial",
            "channels": ["inbox"],
            "audience_filter": audience_filter,
        },
    )


def test_the_form_shows_the_filter_problem_and_saves_nothing(app: Flask, marketer: str) -> None:
    client = _team(app, marketer)
    form = client.get("/admin/campaigns/new").text
    assert "Who is it for?" in form and "read tag:consent within 30 days" in form
    response = _compose(client, "survey:reader-2026 job = x")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="audience_filter-error">[^<]*has no question “job”', page)
    with app.app_context():
        assert db.session.scalar(select(Campaign)) is None


def test_the_preview_counts_each_clause_and_the_list_shows_the_filter(
    app: Flask, marketer: str, three: list[int]
) -> None:
    client = _team(app, marketer)
    saved = _compose(client, MARKETING + " and engaged inbox within 30 days")
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).text
    assert "Nobody matches: nothing will be sent." in page
    assert "<td>1</td><td><ul" in page  # the survey clause alone keeps one
    assert "1 answered otherwise" in page and "1 never answered the survey" in page
    assert "3 did not engage in your inbox on this site in the last 30 days" in page

    with app.app_context():
        campaign_id = db.session.scalars(select(Campaign.id)).one()
    edit = client.get(f"/admin/campaigns/{campaign_id}/edit").text
    assert "engaged inbox within 30 days</textarea>" in edit
    again = post_form(
        client,
        f"/admin/campaigns/{campaign_id}/edit",
        {
            "title": "For marketers",
            "body": "Hello.",
            "scope": "newsletter",
            "kind": "editorial",
            "channels": ["inbox"],
            "audience_filter": MARKETING,
        },
    )
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).text
    assert "The filter keeps 1 of the 3 members the gate lets through" in page
    listing = client.get("/admin/campaigns/").text
    assert "role = &#34;Marketing or growth&#34;" in listing


# --- the member's "why did I get this?" ------------------------------------------------------


def test_the_why_page_says_which_answer_put_the_member_in(
    app: Flask, clock: Clock, three: list[int]
) -> None:
    _campaign(app, clock(), MARKETING)
    plain_id = _campaign(app, clock(), None)
    work_once(app)
    with app.test_request_context():
        url = why_url(three[0], "newsletter", "inbox", clock())
    page = app.test_client().get(url.removeprefix("http://localhost")).text
    day = clock()
    assert (
        f"You told us on {day.day} {day:%B %Y} that your answer to “What best describes your "
        "work?” is Marketing or growth." in page
    )
    assert "Why you, among those who said yes" in page
    sent = {row.member_id: row.state for row in delivery_rows(app, plain_id)}
    assert sent[three[1]] == DeliveryState.SENT
    with app.test_request_context():
        plain = why_url(three[1], "newsletter", "inbox", clock())
    page = app.test_client().get(plain.removeprefix("http://localhost")).text
    assert "We sent this message" in page and "Why you, among those who said yes" not in page
