"""Actions grant the rewards whose rules match them: once, under concurrency, and by back-fill."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.accounts import members
from app.engage.actions import record_action
from app.engage.errors import InvalidAction
from app.extensions import db
from app.rewards.entitlements import entitlements_of, holds, rule_book, sync
from app.rewards.models import Entitlement
from app.rewards.rules import pattern_matches
from tests.conftest import Clock

SCOPES = """
[newsletter]
title = "The weekly letter"
earned_by = ["account"]

[offers]
title = "Member offers"
earned_by = ["survey:reader-2026", "code:*"]
"""


def _pack(stickers: Path, slug: str, unlocked_by: list[str]) -> None:
    (stickers / slug).mkdir(parents=True, exist_ok=True)
    rules = ", ".join(f'"{r}"' for r in unlocked_by)
    (stickers / slug / "pack.toml").write_text(f'title = "{slug}"\nunlocked_by = [{rules}]\n')


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content, stickers = tmp_path / "content", tmp_path / "stickers"
    content.mkdir()
    (content / "scopes.toml").write_text(SCOPES)
    _pack(stickers, "spring-birds", ["survey:reader-2026", "code:spring-store"])
    app_config.update(CONTENT_DIR=str(content), STICKERS_DIR=str(stickers))
    return app_config


def _member(app: Flask, clock: Clock, email: str = "m@example.com", verified: bool = False) -> int:
    with app.app_context():
        member = members.create_member(email, None, now=clock(), verified=verified)
        db.session.commit()
        return member.id


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("code:*", "code:spring-store", True),
        ("code:*", "survey:x", False),
        ("survey:reader-*", "survey:reader-2026", True),
        ("survey:reader-*", "survey:readers", False),
        ("account", "account", True),
        ("code:a_b", "code:aXb", False),
    ],
)
def test_patterns(pattern: str, action: str, expected: bool) -> None:
    assert pattern_matches(pattern, action) is expected


def test_verifying_an_address_records_account_and_earns_the_newsletter_scope(
    app: Flask, clock: Clock
) -> None:
    member_id = _member(app, clock, verified=True)
    with app.app_context():
        assert holds(member_id, "scope:newsletter")
        [entitlement] = entitlements_of(member_id)
        assert entitlement.earned_by == "account"


def test_an_action_earns_every_matching_reward_once(app: Flask, clock: Clock) -> None:
    member_id = _member(app, clock)
    with app.app_context():
        assert record_action(member_id, "code:spring-store", clock()) is True
        assert record_action(member_id, "code:spring-store", clock()) is False
        record_action(member_id, "survey:reader-2026", clock())
        db.session.commit()
        rewards = {e.reward: e.earned_by for e in entitlements_of(member_id)}
    assert rewards == {
        "pack:spring-birds": "code:spring-store",
        "scope:offers": "code:spring-store",
    }


def test_malformed_action_names_are_refused(app: Flask, clock: Clock) -> None:
    member_id = _member(app, clock)
    with app.app_context():
        for bad in ("code:", "code:Has Space", "dance:x", "account:x", "", "survey:" + "x" * 101):
            with pytest.raises(InvalidAction):
                record_action(member_id, bad, clock())


def test_concurrent_identical_actions_give_one_entitlement(app: Flask, clock: Clock) -> None:
    member_id = _member(app, clock)
    barrier = threading.Barrier(10)
    results: list[bool] = []

    def act() -> None:
        with app.app_context():
            barrier.wait()
            results.append(record_action(member_id, "code:spring-store", clock()))
            db.session.commit()

    threads = [threading.Thread(target=act) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Entitlement).where(Entitlement.member_id == member_id)
        )
    assert count == 2  # the pack and the offers scope


def test_a_new_rule_back_fills_members_who_already_took_the_action(
    app: Flask, clock: Clock
) -> None:
    first, second = _member(app, clock, "a@example.com"), _member(app, clock, "b@example.com")
    with app.app_context():
        record_action(first, "survey:reader-2026", clock())
        record_action(second, "code:autumn-store", clock())
        db.session.commit()
        assert not holds(first, "pack:night-owls")
    _pack(Path(app.config["STICKERS_DIR"]), "night-owls", ["survey:*", "code:autumn-*"])
    with app.app_context():
        assert rule_book().rule_for("pack:night-owls") is not None  # picked up without restart
        assert sync(clock()) == 2
        db.session.commit()
        assert holds(first, "pack:night-owls") and holds(second, "pack:night-owls")
        assert sync(clock()) == 0  # idempotent


def test_a_broken_rule_file_is_skipped_and_reported(app: Flask, clock: Clock) -> None:
    stickers = Path(app.config["STICKERS_DIR"])
    (stickers / "broken").mkdir()
    (stickers / "broken" / "pack.toml").write_text('title = "x"\nunlocked_by = "code:*"\n')
    (stickers / "worse").mkdir()
    (stickers / "worse" / "pack.toml").write_text("title = \n")
    with app.app_context():
        book = rule_book()
        assert {r.reward for r in book.rules} == {
            "pack:spring-birds",
            "scope:newsletter",
            "scope:offers",
        }
        messages = sorted(str(p) for p in book.problems)
    assert any("broken/pack.toml:2: unlocked_by must be a list" in m for m in messages)
    assert any("worse/pack.toml:1: invalid TOML" in m for m in messages)
