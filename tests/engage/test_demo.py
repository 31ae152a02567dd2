"""The demo data: ``flask serve`` issues the spring-store batch once and shows a few codes, and a
newcomer can redeem one and answer the reader survey."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.engage.demo import DEMO_COUNT, ensure_demo_codes
from app.engage.models import Code, CodeBatch
from app.extensions import db
from tests.conftest import Clock, is_postgres
from tests.test_serve import Browser, served  # noqa: F401 - the fixture

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]")


def test_the_demo_batch_is_issued_once_and_its_codes_kept_privately(app: Flask) -> None:
    with app.app_context():
        first = ensure_demo_codes()
        again = ensure_demo_codes()
        assert db.session.scalar(select(func.count()).select_from(CodeBatch)) == 1
        assert db.session.scalar(select(func.count()).select_from(Code)) == DEMO_COUNT
    path = Path(app.instance_path) / "demo-codes.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = CODE.findall(path.read_text())
    assert len(kept) == DEMO_COUNT
    assert first.startswith(f"issued {DEMO_COUNT} codes in batch spring-store")
    assert CODE.findall(first) == kept[:3] == CODE.findall(again)
    assert "http://localhost/redeem" in again


@pytest.mark.skipif(is_postgres(), reason="flask serve runs on its embedded SQLite default")
def test_a_newcomer_redeems_a_printed_demo_code(served: tuple[str, Path, str]) -> None:  # noqa: F811
    base, instance, console = served
    line = next(line for line in console.splitlines() if line.startswith("demo codes: "))
    printed = CODE.findall(line)
    assert len(printed) == 3 and "/redeem" in line
    password = re.search(r"password: (\S+)", (instance / "demo-admin.txt").read_text())
    assert password is not None
    browser = Browser(base)
    browser.post("/signin", {"email": "admin@example.com", "password": password.group(1)})
    status, page = browser.post("/redeem", {"code": printed[0].lower()})
    assert status == 200 and "Your code is redeemed" in page and "Member offers" in page
    status, page = browser.get("/me/rewards")
    assert status == 200 and "Member offers" in page and "for redeeming a spring-store code" in page
    status, page = browser.get("/surveys/reader-2026/")
    assert status == 200 and "Reader survey 2026" in page


def test_the_demo_readers_answered_the_survey_and_read_at_their_hours(
    app: Flask, clock: Clock
) -> None:
    from app.accounts.models import Member
    from app.consent.gate.facts import load_facts
    from app.consent.gate.rules import usual_hour
    from app.engage.crowd import CROWD, ensure_demo_crowd
    from app.engage.models import Action, SurveyResponse
    from app.notify.targeting import parsed
    from app.notify.targeting_eval import members

    with app.app_context():
        line = ensure_demo_crowd()
        assert line is not None and line.startswith(f"created {CROWD} demo readers")
        assert ensure_demo_crowd() is None  # once
        crowd = set(db.session.scalars(select(Member.id).where(Member.email.like("demo.reader%"))))
        assert len(crowd) == CROWD
        answers = db.session.scalar(select(func.count()).select_from(SurveyResponse)) or 0
        assert 24 <= answers < CROWD
        reads = db.session.scalar(select(func.count()).where(Action.kind == "read")) or 0
        assert reads > CROWD
        kept = members(parsed('survey:reader-2026 role = "Marketing or growth"'), crowd, clock())
        assert 0 < len(kept) < answers  # a filter on the demo keeps somebody, not everybody
        facts = load_facts(crowd, clock())
        hours = {usual_hour(m) for m in facts.members.values()} - {None}
        assert len(hours) > 1  # readers read at their own hours
