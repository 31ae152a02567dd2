"""Notices every member must be able to read: shown on the site and in the inbox, never pushed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.conftest import PASSWORD, Clock
from tests.helpers import SMTPSink, sign_in

TERMS = """---
title: New terms from 1 January
date: {date}
until: {until}
---
We changed our terms. **Read them** before January.
"""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(app_config["CONTENT_DIR"], content)
    app_config["CONTENT_DIR"] = str(content)
    return app_config


def _write(app: Flask, clock: Clock, name: str = "terms-2027", **shift: int) -> Path:
    date = clock() + timedelta(days=shift.get("starts", -1))
    until = clock() + timedelta(days=shift.get("ends", 30))
    path = Path(app.config["CONTENT_DIR"]) / "notices" / f"{name}.md"
    path.write_text(
        TERMS.format(date=date.strftime("%Y-%m-%d %H:%M"), until=until.strftime("%Y-%m-%d %H:%M"))
    )
    return path


def test_a_notice_is_shown_to_members_until_they_open_it_and_never_sent(
    app: Flask, member: Any, clock: Clock, smtp: SMTPSink
) -> None:
    _write(app, clock)
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    home = client.get("/").text
    assert "A notice for every member:" in home and "New terms from 1 January" in home
    inbox = client.get("/inbox").text
    assert "Notices for every member" in inbox and "/notices/terms-2027" in inbox
    page = client.get("/notices/terms-2027")
    assert page.status_code == 200 and "<strong>Read them</strong>" in page.text
    assert "we never send them to you" in page.text
    assert "New terms from 1 January" not in client.get("/").text  # opened: the line goes
    assert "Notices for every member" in client.get("/inbox").text  # still listed there
    with app.app_context():
        from app.extensions import db

        assert db.session.scalar(text("SELECT count(*) FROM deliveries")) == 0
        assert db.session.scalar(text("SELECT count(*) FROM notice_reads")) == 1
    assert smtp.messages == []


def test_the_demo_notice_is_valid_and_counts_in_the_header(
    demo_content: Path, app: Flask, member: Any
) -> None:
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    page = client.get("/inbox").text
    assert "Your consent receipts are now signed" in page
    assert client.get("/notices/signed-receipts").status_code == 200


@pytest.mark.parametrize(("starts", "ends"), [(1, 30), (-30, -1)])
def test_notices_outside_their_dates_are_not_shown(
    app: Flask, member: Any, clock: Clock, starts: int, ends: int
) -> None:
    _write(app, clock, starts=starts, ends=ends)
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    assert "New terms from 1 January" not in client.get("/inbox").text
    assert client.get("/notices/terms-2027").status_code == 404


def test_visitors_may_read_a_notice_and_nothing_is_recorded(app: Flask, clock: Clock) -> None:
    _write(app, clock)
    client = app.test_client()
    assert client.get("/notices/terms-2027").status_code == 200
    assert "A notice for every member:" not in client.get("/").text
    assert client.get("/notices/..%2Fsite").status_code == 404
    with app.app_context():
        from app.extensions import db

        assert db.session.scalar(text("SELECT count(*) FROM notice_reads")) == 0


@pytest.mark.parametrize(
    ("replace", "line", "message"),
    [
        (("title: New terms from 1 January\n", ""), 2, "title is missing"),
        (("date: ", "dat: "), 3, "unknown field 'dat'"),
        (("until: ", "until: 1999-01-01 # was "), 4, "until must come after date"),
        (("date: ", "date: tomorrow # was "), 3, "date 'tomorrow' is not a date"),
    ],
)
def test_content_check_names_a_bad_notice_with_its_line(
    app: Flask, clock: Clock, runner: Any, replace: tuple[str, str], line: int, message: str
) -> None:
    path = _write(app, clock)
    path.write_text(path.read_text().replace(*replace, 1))
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.output and message in result.output, result.output
