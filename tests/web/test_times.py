"""Dates and moments as people read them: one format, in the reader's own zone."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string

from app.web.times import day, local_time
from tests.conftest import CONTENT

WINTER = datetime(2026, 12, 4, 15, 5, 59, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
# Paris moves its clocks from 02:00 CET to 03:00 CEST at 01:00 UTC on 29 March 2026, and back
# from 03:00 CEST to 02:00 CET at 01:00 UTC on 25 October 2026.
BEFORE_SPRING = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
AFTER_SPRING = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
BEFORE_AUTUMN = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
AFTER_AUTUMN = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (WINTER, "Europe/Paris", "4 December 2026, 16:05 CET"),
        (SUMMER, "Europe/Paris", "2 July 2026, 01:30 CEST"),
        (SUMMER, "America/Los_Angeles", "1 July 2026, 16:30 PDT"),
        (WINTER, "Asia/Kolkata", "4 December 2026, 20:35 IST"),
        (WINTER, "America/Sao_Paulo", "4 December 2026, 12:05 UTC-03:00"),
        (WINTER, "UTC", "4 December 2026, 15:05 UTC"),
        (WINTER, "Not/AZone", "4 December 2026, 15:05 UTC"),
        (WINTER, "", "4 December 2026, 15:05 UTC"),
        (WINTER.replace(tzinfo=None), "Europe/Paris", "4 December 2026, 16:05 CET"),
        (BEFORE_SPRING, "Europe/Paris", "29 March 2026, 01:59 CET"),
        (AFTER_SPRING, "Europe/Paris", "29 March 2026, 03:00 CEST"),
        (BEFORE_AUTUMN, "Europe/Paris", "25 October 2026, 02:30 CEST"),
        (AFTER_AUTUMN, "Europe/Paris", "25 October 2026, 02:30 CET"),
    ],
)
def test_a_moment_reads_on_the_readers_clock(moment: datetime, zone: str, shown: str) -> None:
    assert local_time(moment, zone) == shown


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (datetime(2026, 12, 4, 23, 30, tzinfo=UTC), "Europe/Paris", "5 December 2026"),
        (datetime(2026, 12, 4, 23, 30, tzinfo=UTC), "UTC", "4 December 2026"),
        (datetime(2026, 12, 5, 2, 0, tzinfo=UTC), "America/New_York", "4 December 2026"),
        (date(2026, 12, 4), "Pacific/Auckland", "4 December 2026"),  # a day has no zone
    ],
)
def test_a_day_is_the_day_on_the_readers_calendar(
    moment: datetime | date, zone: str, shown: str
) -> None:
    assert day(moment, zone) == shown


def test_the_filters_use_the_zone_given_or_the_sites_for_a_visitor(app: Flask) -> None:
    with app.test_request_context():
        # The fixture's site.toml names no zone: visitors read UTC.
        assert render_template_string("{{ at|moment }}", at=WINTER) == "4 December 2026, 15:05 UTC"
        assert render_template_string("{{ at|day }}", at=WINTER) == "4 December 2026"
        assert (
            render_template_string("{{ at|moment('Europe/Paris') }}", at=WINTER.isoformat())
            == "4 December 2026, 16:05 CET"
        )
        # A mail names its recipient's zone, whoever is signed in while it is rendered.
        assert (
            render_template_string("{{ at|moment }}", at=WINTER, reader_zone="Asia/Kolkata")
            == "4 December 2026, 20:35 IST"
        )
        assert render_template_string("{{ none|moment }}{{ none|day }}", none=None) == ""


@pytest.fixture
def paris_site(app_config: dict[str, Any], tmp_path: Path) -> Path:
    """The test content folder, copied, with ``time_zone = "Europe/Paris"`` in its site.toml."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    site_toml = folder / "site.toml"
    text = site_toml.read_text(encoding="utf-8")
    site_toml.write_text('time_zone = "Europe/Paris"\n' + text, encoding="utf-8")
    app_config["CONTENT_DIR"] = str(folder)
    return folder


def test_visitors_read_the_zone_of_site_toml(paris_site: Path, app: Flask) -> None:
    with app.test_request_context():
        assert render_template_string("{{ at|moment }}", at=WINTER) == "4 December 2026, 16:05 CET"
        # Macros imported without the page's context still find the site's zone.
        assert render_template_string(
            '{% import "site/_macros.html" as m %}{{ m.date(at) }}',
            at=datetime(2026, 12, 4, 23, 30, tzinfo=UTC),
        ).endswith(">5 December 2026</time>")


def test_a_zone_site_toml_cannot_name_is_reported(tmp_path: Path) -> None:
    from app.site.settings import SiteSettingsError, parse_site_settings

    broken = tmp_path / "site.toml"
    broken.write_text('title = "T"\ntime_zone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(SiteSettingsError, match="time_zone"):
        parse_site_settings(broken)
