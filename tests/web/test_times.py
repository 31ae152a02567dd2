"""Times as members read them: their own zone, named, in one format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, render_template_string

from app.web.times import local_time

WINTER = datetime(2026, 12, 4, 15, 5, 59, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (WINTER, "Europe/Berlin", "4 Dec 2026, 16:05 (Europe/Berlin)"),
        (SUMMER, "Europe/Berlin", "2 Jul 2026, 01:30 (Europe/Berlin)"),
        (SUMMER, "America/Los_Angeles", "1 Jul 2026, 16:30 (America/Los_Angeles)"),
        (WINTER, "Asia/Kolkata", "4 Dec 2026, 20:35 (Asia/Kolkata)"),
        (WINTER, "UTC", "4 Dec 2026, 15:05 (UTC)"),
        (WINTER, "Not/AZone", "4 Dec 2026, 15:05 (UTC)"),
        (WINTER, "", "4 Dec 2026, 15:05 (UTC)"),
        (WINTER.replace(tzinfo=None), "Europe/Berlin", "4 Dec 2026, 16:05 (Europe/Berlin)"),
    ],
)
def test_local_time(moment: datetime, zone: str, shown: str) -> None:
    assert local_time(moment, zone) == shown


def test_the_filter_takes_the_zone_given_or_utc_for_a_visitor(app: Flask) -> None:
    with app.test_request_context():
        assert render_template_string("{{ at|local_time }}", at=WINTER) == "4 Dec 2026, 15:05 (UTC)"
        assert (
            render_template_string("{{ at|local_time('Europe/Paris') }}", at=WINTER)
            == "4 Dec 2026, 16:05 (Europe/Paris)"
        )
        assert (
            render_template_string("{{ at|local_time('Europe/Paris') }}", at=WINTER.isoformat())
            == "4 Dec 2026, 16:05 (Europe/Paris)"
        )
        assert render_template_string("{{ none|local_time }}", none=None) == ""
