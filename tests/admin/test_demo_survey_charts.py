"""On a fresh demo, the marketer's survey results show the demo readers' answers: every chart
of the reader survey has bars with counts, not an empty frame."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in


def test_the_demo_survey_results_have_data(app: Flask, demo_content: Path, clock: Clock) -> None:
    from app.accounts import members
    from app.engage.crowd import ensure_demo_crowd
    from app.extensions import db

    with app.app_context():
        created = ensure_demo_crowd()
        assert created is not None
        answered = int(re.search(r"(\d+) with answers", created).group(1))  # type: ignore[union-attr]
        assert answered >= 25
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), verified=True, role="marketer"
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    page = client.get("/admin/surveys/reader-2026").get_data(as_text=True)
    assert f"{answered} responses" in page
    charts = re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    assert charts, "the survey results show no chart"
    for chart in charts:
        counts = [int(n) for n in re.findall(r'class="chart-value">(\d+)<', chart)]
        assert counts and sum(counts) > 0, chart[:200]
