"""A campaign body is rendered within the render budget or refused by the campaign form with a
message that names the line: a marketer can never save (or send) a body that would hold the
worker or the inbox."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.extensions import db
from app.notify.models import Campaign
from tests.conftest import PASSWORD
from tests.helpers import post_form, sign_in


def _compose(app: Flask, marketer: str, body: str) -> tuple[FlaskClient, TestResponse]:
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    response = post_form(
        client,
        "/admin/campaigns/new",
        {
            "title": "Spring letter",
            "body": body,
            "scope": "newsletter",
            "kind": "editorial",
            "channels": ["email", "inbox"],
        },
    )
    return client, response


def _campaigns(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Campaign)) or 0)


def test_a_body_over_the_limits_is_refused_with_its_line(app: Flask, marketer: str) -> None:
    _, response = _compose(app, marketer, "Birds are back.\n\n" + "[" * 3_000)
    assert response.status_code == 200
    assert "The message is too heavy to render (line 3)" in response.text
    assert "in one paragraph" in response.text
    assert _campaigns(app) == 0


def test_a_body_slower_than_the_budget_is_refused(app: Flask, marketer: str) -> None:
    app.config["RENDER_BUDGET_SECONDS"] = 0.01
    _, response = _compose(app, marketer, "- [a](/b) *c* `d`\n" * 1_000)
    assert response.status_code == 200
    assert "rendering took" in response.text and "the budget is 0.01 s" in response.text
    assert _campaigns(app) == 0


def test_a_thousand_brackets_are_saved_and_shown_as_text(app: Flask, marketer: str) -> None:
    client, response = _compose(app, marketer, "Birds are back.\n\n" + "[" * 1_000)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "[" * 1_000 in page.text
    assert _campaigns(app) == 1
