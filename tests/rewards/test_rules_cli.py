"""``flask rewards sync`` back-fills after a rule change; ``flask rewards check`` names rules that
point at nothing, with the file and line; every action kind earns what its rule gives."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app.accounts import members
from app.engage.actions import record_action
from app.engage.redemption import issue_codes
from app.extensions import db
from app.rewards.entitlements import entitlements_of, holds
from tests.conftest import CONTENT, REPO, Clock

SCOPES_EXTRA = """
[pets]
title = "Pet news"
earned_by = [
  "subscribe:newsletter",
  "subscribe:no-such-scope",
]
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    content, stickers = tmp_path / "content", tmp_path / "stickers"
    shutil.copytree(CONTENT, content)
    stickers.mkdir()
    return content, stickers


@pytest.fixture
def app_config(app_config: dict[str, Any], folders: tuple[Path, Path]) -> dict[str, Any]:
    content, stickers = folders
    app_config.update(CONTENT_DIR=str(content), STICKERS_DIR=str(stickers))
    return app_config


def _pack(stickers: Path, slug: str, *rules: str) -> Path:
    (stickers / slug).mkdir()
    path = stickers / slug / "pack.toml"
    lines = "".join(f'  "{rule}",\n' for rule in rules)
    path.write_text(f'title = "{slug}"\nunlocked_by = [\n{lines}]\n')
    return path


def test_sync_grants_a_new_pack_to_members_who_already_qualified(
    app: Flask, runner: FlaskCliRunner, folders: tuple[Path, Path], clock: Clock
) -> None:
    _, stickers = folders
    with app.app_context():
        member = members.create_member("early@example.com", None, now=clock(), verified=True)
        record_action(member.id, "survey:reader-2026", clock())
        db.session.commit()
        member_id = member.id
    _pack(stickers, "thank-you", "survey:reader-2026")
    result = runner.invoke(args=["rewards", "sync"])
    assert result.exit_code == 0 and result.output == "1 entitlement added\n"
    assert runner.invoke(args=["rewards", "sync"]).output == "0 entitlements added\n"
    with app.app_context():
        assert holds(member_id, "pack:thank-you")


def test_check_names_each_rule_that_points_at_nothing(
    app: Flask, runner: FlaskCliRunner, folders: tuple[Path, Path], clock: Clock
) -> None:
    content, stickers = folders
    with (content / "scopes.toml").open("a") as scopes:
        scopes.write(SCOPES_EXTRA)
    birds = _pack(stickers, "spring-birds", "survey:reader-2026", "code:spring-store")
    typo = _pack(stickers, "typo", "survey:reader-2062", "survey:poll-*", "code:*", "account")
    with app.app_context():
        issue_codes("autumn-store", 1, now=clock())
        db.session.commit()
    result = runner.invoke(args=["rewards", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    scopes_file = content / "scopes.toml"
    pets_line = scopes_file.read_text().splitlines().index('  "subscribe:no-such-scope",') + 1
    assert lines == sorted(
        [
            f"{birds}:4: warning: pack:spring-birds: 'code:spring-store' names no code batch "
            "issued yet (known: autumn-store)",
            f"{typo}:3: pack:typo: 'survey:reader-2062' names no survey (known: reader-2026)",
            f"{typo}:4: pack:typo: 'survey:poll-*' matches no survey (known: reader-2026)",
            f"{scopes_file}:{pets_line}: scope:pets: 'subscribe:no-such-scope' names no scope "
            "(known: new-stickers, newsletter, offers, pets)",
        ]
    )
    with app.app_context():
        issue_codes("spring-store", 1, now=clock())
        db.session.commit()
    for path in (typo,):
        path.unlink()
    (content / "scopes.toml").write_text((REPO / "content" / "scopes.toml").read_text())
    fixed = runner.invoke(args=["rewards", "check"])
    assert fixed.exit_code == 0, fixed.output
    assert "4 reward rules, all pointing at something real" in fixed.output


def test_check_reports_rule_files_that_cannot_be_read(
    app: Flask, runner: FlaskCliRunner, folders: tuple[Path, Path]
) -> None:
    _, stickers = folders
    (stickers / "broken").mkdir()
    (stickers / "broken" / "pack.toml").write_text("title = \n")
    result = runner.invoke(args=["rewards", "check"])
    assert (
        result.exit_code == 1
        and f"{stickers / 'broken' / 'pack.toml'}:1: invalid TOML" in result.output
    )


@pytest.mark.parametrize(
    "action",
    [
        "account",
        "survey:reader-2026",
        "code:spring-store",
        "referral",
        "read:why-pull-wins",
        "subscribe:newsletter",
    ],
)
def test_every_action_kind_earns_what_its_rule_gives(
    app: Flask, folders: tuple[Path, Path], clock: Clock, action: str
) -> None:
    _, stickers = folders
    slug = "for-" + action.replace(":", "-").replace(".", "-")
    _pack(stickers, slug, action)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    with app.app_context():
        member = members.create_member("doer@example.com", None, now=clock())
        db.session.commit()
        assert not holds(member.id, f"pack:{slug}")
        if action == "account":
            members.mark_verified(member, clock())
        else:
            record_action(member.id, action, clock())
        db.session.commit()
        earned = {e.reward: e.earned_by for e in entitlements_of(member.id)}
    assert earned[f"pack:{slug}"] == action
