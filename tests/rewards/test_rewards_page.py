"""The rewards page: earned packs with what earned them, scopes offered unticked, locked rewards
with the ways to earn them in plain words, and nothing that asks for consent."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import Markup

from app.accounts import members
from app.engage.actions import record_action
from app.extensions import db
from app.rewards.catalog import DESCRIBERS, RewardDescription
from tests.conftest import PASSWORD, Clock
from tests.helpers import copy_pack, sign_in

PACKS = {
    "spring-birds": ("Spring birds", ["survey:reader-2026", "code:spring-store"]),
    "night-owls": ("Night owls", ["survey:old-poll", "referral"]),
    "gone-by": ("Gone by", ["survey:old-poll"]),
}
OLD_POLL = """---
title: Old poll
closes_at: 2020-01-31
questions:
  - {id: a, type: text, label: A}
---
"""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content, stickers = tmp_path / "content", tmp_path / "stickers"
    shutil.copytree(app_config["CONTENT_DIR"], content)
    (content / "surveys" / "old-poll.md").write_text(OLD_POLL)
    for slug, (title, rules) in PACKS.items():
        copy_pack(stickers, slug, title, rules)
    app_config.update(CONTENT_DIR=str(content), STICKERS_DIR=str(stickers))
    return app_config


@pytest.fixture(autouse=True)
def _while_the_reader_survey_is_open(clock: Clock) -> None:
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))


@pytest.fixture
def reader(app: Flask, clock: Clock) -> tuple[FlaskClient, int]:
    with app.app_context():
        member = members.create_member("reader@example.com", PASSWORD, now=clock(), verified=True)
        record_action(member.id, "code:spring-store", clock())
        db.session.commit()
        member_id = member.id
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)
    return client, member_id


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else None]


def test_earned_offered_and_locked_rewards(reader: tuple[FlaskClient, int]) -> None:
    client, _ = reader
    html = client.get("/me/rewards").text
    packs = _section(html, "packs-heading")
    assert '<a href="/stickers/spring-birds/">Spring birds</a>' in packs
    assert "Earned for redeeming a spring-store code" in packs
    scopes = _section(html, "scopes-heading")
    assert "The weekly letter" in scopes and "Member offers" in scopes
    assert "Our promise:</strong> Offers from the shop for members" in scopes
    assert "Earned for confirming your email address" in scopes
    # The consent area draws one control per scope: its sentence once, then a switch per
    # channel, each off, and one save. 3 + 4 + 4 channels; texts wait for a number.
    assert scopes.count('role="switch"') == 11 and "checked" not in scopes
    assert scopes.count(" disabled>") == 1 and "Add your mobile number</a> first" in scopes
    assert scopes.count("Save my choices</button>") == 3
    assert scopes.count("Yes, tell me about member offers.") == 1
    locked = _section(html, "locked-heading")
    assert "Night owls" in locked
    assert '<a href="#invite">Bring a friend with your invitation link</a>' in locked
    assert "Old poll" not in locked  # a closed survey is no way to earn anything now
    assert "Gone by" not in locked  # no way left: not shown at all
    assert "Spring birds" not in locked


def test_the_areas_describers_draw_packs_and_unticked_scope_offers(
    app: Flask, reader: tuple[FlaskClient, int]
) -> None:
    client, member_id = reader
    seen: list[tuple[str, int | None]] = []

    def pack(ref: str, member: int | None) -> RewardDescription | None:
        seen.append((ref, member))
        if ref == "night-owls":
            return None  # the stickers area no longer has this pack
        download = Markup('<a href="/stickers/spring-birds/telegram">Telegram</a>')
        return RewardDescription(
            f"pack:{ref}",
            "Spring birds",
            "Twelve birds for spring",
            url=f"/stickers/{ref}/",
            image_url=f"/stickers/{ref}/tray.png",
            offer=download,
        )

    def scope(ref: str, member: int | None) -> RewardDescription:
        offer = Markup(
            '<form method="post" action="/consent/{}"><label class="check">'
            '<input type="checkbox" name="yes"> Tell me</label></form>'
        ).format(ref)
        return RewardDescription(f"scope:{ref}", ref.title(), offer=offer)

    DESCRIBERS.replace(app, "pack", pack)
    DESCRIBERS.replace(app, "scope", scope)
    html = client.get("/me/rewards").text
    assert '<img src="/stickers/spring-birds/tray.png" alt=""' in html
    assert '<a href="/stickers/spring-birds/">Spring birds</a>' in html
    assert "Telegram</a>" in html and "Twelve birds for spring" in html
    scopes = _section(html, "scopes-heading")
    assert scopes.count('type="checkbox"') == 3 and "checked" not in scopes
    assert "You can opt in on your permissions page." not in html
    assert "Night owls" not in html  # unknown to its area: left out
    assert ("spring-birds", member_id) in seen


def test_the_rewards_link_is_in_the_header_for_members_only(
    app: Flask, reader: tuple[FlaskClient, int]
) -> None:
    client, _ = reader
    assert '<a href="/me/rewards" aria-current="page">Rewards</a>' in client.get("/me/rewards").text
    assert '<a href="/me/rewards"' in client.get("/").text
    visitor = app.test_client()
    assert "/me/rewards" not in visitor.get("/").text
    response = visitor.get("/me/rewards")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_a_new_member_sees_only_what_is_possible(app: Flask, clock: Clock) -> None:
    with app.app_context():
        members.create_member("fresh@example.com", PASSWORD, now=clock(), verified=True)
        db.session.commit()
    client = app.test_client()
    sign_in(client, "fresh@example.com", PASSWORD)
    html = client.get("/me/rewards").text
    assert "No sticker packs yet. Below are the ways to earn one." in html
    assert '<a href="/surveys/reader-2026/">Answer “Reader survey 2026”</a>' in html
    assert '<a href="/redeem">Redeem a code from a shop receipt</a>' in html
    assert "Redeem a spring-store code from a shop receipt" in html
