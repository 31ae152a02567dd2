"""``content/scopes.toml``: every field read and checked; problems reported with their line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.consent.scopes import all_scopes, parse_scopes
from app.site.checks import registered_checks
from tests.conftest import REPO

GOOD = """[digest]
title = "The digest"
about = "the best of the month"
consent_text = "Yes, send me the digest."
channels = ["email"]
earned_by = ["subscribe:digest"]
kind = "editorial"
max_per_week = 1
"""


def test_the_demo_scopes_are_valid_and_complete() -> None:
    scopes, problems = parse_scopes(REPO / "content" / "scopes.toml")
    assert problems == []
    assert list(scopes) == ["newsletter", "offers", "new-stickers"]
    offers = scopes["offers"]
    assert offers.earned_by == ("survey:reader-2026", "code:*", "purchase:*")
    assert (offers.cooldown_hours, offers.pause_after_ignored, offers.expires_after_days) == (
        72,
        4,
        365,
    )
    assert scopes["new-stickers"].earned_by == ("code:*", "survey:*")
    assert scopes["newsletter"].cooldown_hours == 24  # the default
    assert scopes["newsletter"].visitor_subscribable
    assert not offers.visitor_subscribable and not scopes["new-stickers"].visitor_subscribable


def test_the_demo_scopes_say_only_what_the_machine_keeps() -> None:
    scopes, _ = parse_scopes(REPO / "content" / "scopes.toml")
    newsletter, offers = scopes["newsletter"], scopes["offers"]
    assert (newsletter.max_per_week, newsletter.days, newsletter.send_window) == (
        1,
        (4,),
        (480, 1080),
    )
    assert newsletter.promise == (
        "The three best new articles. At most one message a week, on Fridays between 08:00 "
        "and 18:00 your time, by email, in your inbox on this site or on Telegram."
    )
    assert newsletter.wording == (
        "Yes, send me the weekly letter. I can stop it with one click at any time. At most "
        "one message a week, on Fridays between 08:00 and 18:00 your time."
    )
    assert (offers.max_per_week, offers.max_per_month) == (1, 2)
    assert "At most one message a week and two a month" in offers.promise
    for scope in scopes.values():
        assert scope.about in scope.promise.lower() or scope.about[1:] in scope.promise


def test_a_cadence_change_changes_the_words_and_so_the_version(tmp_path: Path) -> None:
    path = tmp_path / "scopes.toml"
    path.write_text(GOOD)
    [before] = parse_scopes(path)[0].values()
    path.write_text(GOOD.replace("max_per_week = 1", 'max_per_week = 1\ndays = ["mon", "thu"]'))
    [after] = parse_scopes(path)[0].values()
    assert after.consent_version == before.consent_version
    assert after.wording_hash != before.wording_hash
    assert after.wording.endswith("At most one message a week, on Mondays and Thursdays.")
    path.write_text(
        GOOD.replace(
            "max_per_week = 1",
            'max_per_week = 1\nsend_window = "22:00-02:00"\n'
            'days = ["Monday","tue","wed","thu","fri","sat","sun"]',
        )
    )
    [every_day] = parse_scopes(path)[0].values()
    assert every_day.days == () and every_day.send_window == (1320, 120)
    assert every_day.promise.endswith("between 22:00 and 02:00 your time, by email.")


def test_defaults_and_subscribing_by_address(tmp_path: Path) -> None:
    path = tmp_path / "scopes.toml"
    path.write_text(GOOD)
    [scope] = parse_scopes(path)[0].values()
    assert (
        scope.consent_version,
        scope.cooldown_hours,
        scope.pause_after_ignored,
        scope.expires_after_days,
    ) == (1, 24, 4, None)
    assert scope.visitor_subscribable and scope.reward == "scope:digest"


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (('kind = "editorial"', 'kind = "loud"'), 7, "kind must be 'editorial' or 'promotional'"),
        (('channels = ["email"]', 'channels = ["email", "fax"]'), 5, "unknown channel 'fax'"),
        (('channels = ["email"]', "channels = []"), 5, "channels must be a non-empty list"),
        (('channels = ["email"]', 'channels = ["email", "email"]'), 5, "a channel twice"),
        (("max_per_week = 1", "max_per_week = 0"), 8, "max_per_week must be between 1 and 50"),
        (("max_per_week = 1", 'max_per_week = "once"'), 8, "max_per_week must be a whole number"),
        (
            ('earned_by = ["subscribe:digest"]', 'earned_by = ["dance:tango"]'),
            6,
            "is not an action pattern",
        ),
        (
            ("max_per_week = 1", "max_per_week = 1\nconsent_version = 0"),
            9,
            "consent_version must be between 1",
        ),
        (
            ("max_per_week = 1", "max_per_week = 1\nexpires_after_days = -3"),
            9,
            "expires_after_days must be between 1",
        ),
        (("max_per_week = 1", "max_per_week = 1\ncooldown = 3"), 9, "unknown field 'cooldown'"),
        (('title = "The digest"\n', ""), 1, "missing title"),
        (('about = "the best of the month"', 'about = ""'), 3, "about must be non-empty text"),
        (
            ('about = "the best of the month"', 'promise = "One email a month."'),
            3,
            "promise is now rendered from the data",
        ),
        (
            ('about = "the best of the month"', 'about = "news, every day"'),
            3,
            "about names a cadence ('every')",
        ),
        (
            ('about = "the best of the month"', 'about = "news on Fridays"'),
            3,
            "about names a cadence ('Fridays')",
        ),
        (
            ('about = "the best of the month"', 'about = "news at 9 am"'),
            3,
            "about names a cadence ('9 am')",
        ),
        (
            ('about = "the best of the month"', 'about = "twice the news"'),
            3,
            "about names a cadence ('twice')",
        ),
        (("max_per_week = 1", 'max_per_week = 1\ndays = ["funday"]'), 9, "unknown day 'funday'"),
        (("max_per_week = 1", 'max_per_week = 1\ndays = "fri"'), 9, "days must be a list"),
        (
            ("max_per_week = 1", 'max_per_week = 1\nsend_window = "25:00-08:00"'),
            9,
            "has a time that does not exist (25:00)",
        ),
        (
            ("max_per_week = 1", 'max_per_week = 1\nsend_window = "8 to 6"'),
            9,
            'must look like "08:00-18:00"',
        ),
        (("max_per_week = 1", 'max_per_week = 1\nsend_window = "08:00-08:00"'), 9, "is empty"),
        (
            ("max_per_week = 1", "max_per_week = 2\nmax_per_month = 1"),
            9,
            "max_per_month must be at least max_per_week",
        ),
        (("[digest]", '["Digest Letter"]'), 1, "a scope name uses a-z, 0-9 and dashes"),
        (('kind = "editorial"', 'kind = "editorial'), 7, "invalid TOML"),
    ],
)
def test_problems_name_the_line(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    path = tmp_path / "scopes.toml"
    path.write_text(GOOD.replace(*change))
    scopes, problems = parse_scopes(path)
    assert scopes == {}
    [problem] = problems
    assert problem.line == line and message in problem.message, str(problem)
    assert str(problem).startswith(f"{path}:{line}: ")


def test_a_bad_scope_leaves_the_others_usable(tmp_path: Path) -> None:
    path = tmp_path / "scopes.toml"
    path.write_text(GOOD + "\n[broken]\ntitle = 3\n")
    scopes, problems = parse_scopes(path)
    assert list(scopes) == ["digest"]
    assert problems[0].line == 10 and "[broken]" in problems[0].message


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "scopes.toml").write_text(GOOD + '\n[spam]\ntitle = "Spam"\nkind = "loud"\n')
    app_config["CONTENT_DIR"] = str(content)
    return app_config


def test_content_check_reports_the_scopes_file(app: Flask) -> None:
    with app.app_context():
        problems = registered_checks()["scopes"]()
        assert [(p.line, p.path.name) for p in problems] == [(10, "scopes.toml")]
        assert "[spam] missing about" in problems[0].message
        assert list(all_scopes()) == ["digest"]
