"""Survey files: every mistake is reported by the ``surveys`` content check with its line, the
broken file is skipped, and a survey can never carry a consent question."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from app.engage.responses import shelf
from app.engage.surveys import read_survey
from app.site.checks import registered_checks
from tests.conftest import REPO
from tests.engage.conftest import write_survey

GOOD = """---
title: Tiny survey
questions:
  - id: colour
    type: single
    label: Which colour?
    options: [Red, Blue]
---
Intro.
"""


def _problems(app: Flask) -> list[str]:
    with app.app_context():
        return [str(p) for p in registered_checks()["surveys"]()]


@pytest.mark.parametrize(
    ("front_matter", "line", "message"),
    [
        ("questions:\n  - {id: a, type: text, label: A}", 2, "title is missing"),
        ("title: T", 2, "questions must be a list of 1 to 40 questions"),
        ("title: T\nquestions: []", 3, "questions must be a list"),
        (
            "title: T\nsubtitle: x\nquestions:\n  - {id: a, type: text, label: A}",
            3,
            "unknown field 'subtitle'",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: essay\n    label: A",
            5,
            "type must be one of single, multi, text, rating, nps, got 'essay'",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: email-consent\n    label: Email me?",
            5,
            "a survey never asks for consent",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: opt-in\n    label: Join?",
            5,
            "a survey never asks for consent",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: single\n"
            "    label: May we email you offers?\n    options: [Yes, No]",
            6,
            "a survey never asks for consent",
        ),
        (
            "title: T\nquestions:\n  - id: Bad Id\n    type: text\n    label: A",
            4,
            "id must start with a letter",
        ),
        (
            "title: T\nquestions:\n  - {id: a, type: text, label: A}\n"
            "  - {id: a, type: text, label: B}",
            5,
            "id 'a' is used twice",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: single\n    label: A\n    options: [Only]",
            7,
            "needs a list of 2 to 20 options",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: multi\n    label: A\n"
            "    options: [X, Y, X]",
            7,
            "option 'X' is listed twice",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: rating\n    label: A\n    options: [X, Y]",
            7,
            "a rating question has no options",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: text\n    label: A\n    max_length: 5000",
            7,
            "max_length must be between 1 and 1000",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: nps\n    label: A\n    max_length: 10",
            7,
            "only a text question has max_length",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: text\n    label: A\n    required: maybe",
            7,
            "required must be true or false",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: text\n    label: A\n    colour: red",
            7,
            "unknown question field 'colour'",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: text\n    label: A\n    max_length: 1000\n"
            "  - id: b\n    type: text\n    label: B\n    max_length: 1001",
            11,
            "max_length must be",
        ),
        (
            "title: T\nquestions:\n  - id: a\n    type: text\n    label: A\n    max_length: 1000\n"
            "  - id: b\n    type: text\n    label: B\n    max_length: 1000\n"
            "  - id: c\n    type: text\n    label: C\n    max_length: 100",
            3,
            "allow 2100 characters in all",
        ),
        (
            "title: T\nopens_at: tomorrow\nquestions:\n  - {id: a, type: text, label: A}",
            3,
            "opens_at 'tomorrow' is not a date",
        ),
        (
            "title: T\nopens_at: 2027-01-01\ncloses_at: 2026-01-01\n"
            "questions:\n  - {id: a, type: text, label: A}",
            4,
            "closes_at must come after opens_at",
        ),
        ("title: T\nquestions:\n  - just a string", 4, "each question must be a mapping"),
        ("title: [unclosed\nquestions: []", 3, "invalid YAML"),
    ],
)
def test_each_mistake_is_reported_with_its_line_and_the_file_is_skipped(
    app: Flask, content: Path, front_matter: str, line: int, message: str
) -> None:
    path = write_survey(content, "broken", f"---\n{front_matter}\n---\nIntro.\n")
    write_survey(content, "fine", GOOD)
    problems = _problems(app)
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems
    with app.app_context():
        assert set(shelf().surveys) == {"fine", "reader-2026"}


def test_a_bad_file_name_is_reported(app: Flask, content: Path) -> None:
    path = write_survey(content, "Reader Survey", GOOD)
    assert any(p.startswith(f"{path}:") and "must be a slug" in p for p in _problems(app))


def test_the_demo_reader_survey_is_valid_and_uses_every_question_type() -> None:
    survey, problems = read_survey(REPO / "content" / "surveys" / "reader-2026.md")
    assert problems == [] and survey is not None
    assert {q.type for q in survey.questions} == {"single", "multi", "text", "rating", "nps"}
    assert survey.opens_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert survey.closes_at == datetime(2027, 7, 1, tzinfo=UTC)  # through the 30th of June
    assert len(survey.version) == 64


def test_dates_read_as_days_or_moments(tmp_path: Path) -> None:
    path = tmp_path / "timed.md"
    path.write_text(
        GOOD.replace(
            "title: Tiny survey",
            "title: Timed\nopens_at: 2026-12-01T09:30:00+01:00\ncloses_at: 2026-12-24",
        )
    )
    survey, problems = read_survey(path)
    assert problems == [] and survey is not None
    assert survey.opens_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert survey.state(datetime(2026, 12, 1, 8, 29, tzinfo=UTC)) == "upcoming"
    assert survey.state(datetime(2026, 12, 24, 23, 59, tzinfo=UTC)) == "open"
    assert survey.state(datetime(2026, 12, 25, tzinfo=UTC)) == "closed"


def test_a_changed_file_is_read_again_with_a_new_version(app: Flask, content: Path) -> None:
    path = write_survey(content, "tiny", GOOD)
    with app.app_context():
        before = shelf().surveys["tiny"].version
        path.write_text(GOOD.replace("Which colour?", "Which colour do you like best?"))
        after = shelf().surveys["tiny"]
    assert after.version != before and after.questions[0].label.endswith("best?")
