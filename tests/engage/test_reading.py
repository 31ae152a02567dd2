"""Reading an article records ``read:<slug>`` once, in a write of its own after the article
view's read transaction, and grants what the rules give for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import clock as app_clock
from app import events
from app.engage.models import Action
from app.extensions import db
from app.rewards.entitlements import holds
from app.site.events import ArticleRead
from tests.engage.conftest import SignedIn
from tests.helpers import copy_pack


@pytest.fixture
def stickers(stickers: Path) -> Path:
    copy_pack(stickers, "bookworm", "Bookworm", ["read:pull-before-push"])
    return stickers


def _reads(app: Flask, action: str) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(Action).where(Action.action == action)
            )
            or 0
        )


def test_reading_an_article_records_the_action_once_and_grants_its_reward(
    app: Flask, signed_in: SignedIn
) -> None:
    reader = signed_in("reader@example.com")
    for _ in range(3):
        assert reader.get("/posts/pull-before-push/").status_code == 200
    assert _reads(app, "read:pull-before-push") == 1
    with app.app_context():
        member_id = db.session.scalar(
            select(Action.member_id).where(Action.action == "read:pull-before-push")
        )
        assert member_id is not None and holds(member_id, "pack:bookworm")
    assert "Bookworm" in reader.get("/me/rewards").text


def test_visitors_and_unusable_slugs_record_nothing(app: Flask, signed_in: SignedIn) -> None:
    app.test_client().get("/posts/pull-before-push/")
    assert _reads(app, "read:pull-before-push") == 0
    reader = signed_in("reader@example.com")
    assert reader.get("/posts/Not A Slug/").status_code == 404
    with app.test_request_context():
        # An event with a slug no action can carry is logged and dropped, never an error.
        events.emit(ArticleRead(member_id=1, slug="Not A Slug", at=app_clock.now()))
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Action).where(Action.kind == "read"))
            == 0
        )
