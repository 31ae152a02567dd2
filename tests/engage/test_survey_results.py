"""Marketers' survey results: counts per option, the NPS score, an SVG chart drawn on the server,
and a CSV export that no spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from app.engage.responses import get_survey, submit_response
from app.engage.results import safe_cell, survey_results
from app.extensions import db
from tests.conftest import Clock
from tests.engage.conftest import MakeMember, SignedIn, write_survey

ANSWERS = [  # role, topics, usefulness, recommend, next-article
    ("Marketing or growth", ["Email deliverability"], "5", "10", '=HYPERLINK("http://x")'),
    (
        "Marketing or growth",
        ["Email deliverability", "Case studies from real teams"],
        "4",
        "9",
        "+1 more case studies",
    ),
    ("Editorial or content", [], "3", "7", "-2 fewer long reads"),
    ("Something else", ["Case studies from real teams"], "2", "3", "@SUM(A1:A2)"),
    ("Student or researcher", [], "4", "0", "Plain wish, with a comma"),
]


@pytest.fixture
def answered(app: Flask, clock: Clock, make_member: MakeMember) -> None:
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    people = [make_member(f"r{i}@example.com") for i in range(len(ANSWERS))]
    with app.app_context():
        survey = get_survey("reader-2026")
        for person, (role, topics, useful, nps, wish) in zip(people, ANSWERS, strict=True):
            submit_response(
                person,
                survey,
                {
                    "role": [role],
                    "topics": topics,
                    "usefulness": [useful],
                    "recommend": [nps],
                    "next-article": [wish],
                },
                clock(),
            )
        db.session.commit()


def test_results_count_options_score_nps_and_average_ratings(app: Flask, answered: None) -> None:
    with app.app_context():
        results = survey_results(get_survey("reader-2026"))
    assert results.responses == 5
    role, topics, usefulness, recommend, wish = results.questions
    assert {c.label: c.count for c in role.counts}["Marketing or growth"] == 2
    assert {c.label: c.count for c in topics.counts} == {
        "Consent, privacy and the law": 0,
        "Email deliverability": 2,
        "Loyalty and rewards that people want": 0,
        "Measuring engagement without surveillance": 0,
        "Case studies from real teams": 2,
        "Writing messages people look forward to": 0,
    }
    assert topics.answered == 3
    assert usefulness.average == pytest.approx(3.6)
    # promoters 10, 9; passive 7; detractors 3, 0: (2 - 2) / 5
    assert (recommend.promoters, recommend.passives, recommend.detractors) == (2, 1, 2)
    assert recommend.nps == 0
    assert wish.answered == 5 and wish.texts[0] == "Plain wish, with a comma"  # newest first


def test_the_results_page_draws_an_svg_chart_per_question(
    app: Flask, answered: None, signed_in: SignedIn
) -> None:
    marketer = signed_in("mk@example.com", role="marketer")
    page = marketer.get("/admin/surveys/reader-2026")
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg class="chart"') == 4  # single, multi, rating, nps
    assert "NPS +0" in html and "(2 promoters, 1 passives, 2 detractors)" in html
    assert "average 3.6 of 5" in html
    bars = re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', html)
    assert "344.0" in bars and "0.0" in bars  # the largest count fills the row; zero is empty
    assert "<script" not in html and "style=" not in html
    assert "=HYPERLINK(&#34;http://x&#34;)" in html  # text answers shown escaped
    listing = marketer.get("/admin/surveys/").text
    assert "Reader survey 2026" in listing and "<td>5</td>" in listing


def test_the_csv_export_holds_every_response_and_defuses_formulas(
    app: Flask, answered: None, signed_in: SignedIn
) -> None:
    response = signed_in("mk@example.com", role="marketer").get(
        "/admin/surveys/reader-2026/responses.csv"
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="survey-reader-2026-'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5
    assert list(rows[0]) == [
        "response",
        "submitted_at",
        "version",
        "role",
        "topics",
        "usefulness",
        "recommend",
        "next-article",
    ]
    wishes = [row["next-article"] for row in rows]
    assert wishes == [
        '\'=HYPERLINK("http://x")',
        "'+1 more case studies",
        "'-2 fewer long reads",
        "'@SUM(A1:A2)",
        "Plain wish, with a comma",
    ]
    assert rows[1]["topics"] == "Email deliverability; Case studies from real teams"
    assert rows[2]["topics"] == "" and rows[0]["recommend"] == "10"
    assert "@example.com" not in response.text  # no member identity


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+31 6 1234", "'+31 6 1234"),
        ("-x", "'-x"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("＝1+1", "'＝1+1"),
        ("fine", "fine"),
        (None, ""),
        (7, "7"),
        ("a=b", "a=b"),
    ],
)
def test_cells_that_would_start_a_formula_are_prefixed(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_survey_screens_are_for_marketers(app: Flask, answered: None, signed_in: SignedIn) -> None:
    member = signed_in("m@example.com")
    for url in (
        "/admin/surveys/",
        "/admin/surveys/reader-2026",
        "/admin/surveys/reader-2026/responses.csv",
    ):
        assert member.get(url).status_code == 403, url
    assert app.test_client().get("/admin/surveys/").status_code == 302
    marketer = signed_in("mk@example.com", role="marketer")
    assert marketer.get("/admin/surveys/nope").status_code == 404
    assert "Surveys" in marketer.get("/admin/").text


def test_an_option_removed_later_still_counts_as_retired(
    app: Flask, content: Path, clock: Clock, make_member: MakeMember
) -> None:
    first = (
        "---\ntitle: Pets\nquestions:\n  - id: pet\n    type: single\n    label: Pet?\n"
        "    options: [Cat, Dog, Fish]\n---\n"
    )
    path = write_survey(content, "pets", first)
    person = make_member("pet@example.com")
    with app.app_context():
        submit_response(person, get_survey("pets"), {"pet": ["Fish"]}, clock())
        db.session.commit()
        path.write_text(first.replace(", Fish", ""))
        results = survey_results(get_survey("pets"))
    assert results.versions == 1
    assert [(c.label, c.count, c.retired) for c in results.questions[0].counts] == [
        ("Cat", 0, False),
        ("Dog", 0, False),
        ("Fish", 1, True),
    ]
