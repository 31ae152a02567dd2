"""The campaign preview counts what the pure gate says, for any members, histories and clocks,
on the database under test (SQLite, or PostgreSQL with PULLFIRST_TEST_DATABASE_URL).

The preview reads every check in one SQL query; here each member is decided one by one with
``decide`` and the counts are made the way the preview promises: the reached are the eligible,
the deferred are the reached whom ``decide`` holds back now, a member left out counts under
each of their reasons, and an active member who neither holds the scope nor ever answered it
counts under ``earned`` and ``consented`` only.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.consent.gate.audience import audience
from app.consent.gate.facts import load_facts
from app.consent.gate.rules import DEFERRING, REASONS, Campaign, Facts, decide
from app.consent.models import ConsentState
from app.consent.scopes import Scope
from app.extensions import db
from app.notify.preview import ChannelPreview, preview_channel
from tests.consent import world
from tests.consent.test_gate_property import CAMPAIGNS, T0, _build, draw_world


def _expected(
    facts: Facts, campaign: Campaign, channel: str, now: Any, ids: list[int]
) -> tuple[set[int], int, dict[str, int]]:
    answered = set(
        db.session.scalars(
            select(ConsentState.member_id).where(
                ConsentState.scope == campaign.scope.slug, ConsentState.channel == channel
            )
        )
    )
    reached, deferred, counts = set(), 0, Counter[str]()
    for m in ids:
        member = facts.members[m]
        if not member.active:
            continue
        decision = decide(facts, campaign, m, channel, now)
        if campaign.scope.slug not in member.earned and m not in answered:
            counts.update(("earned", "consented"))
        elif decision.eligible:
            reached.add(m)
            deferred += bool(decision.reasons)
        else:
            counts.update(r for r in decision.reasons if r not in DEFERRING)
    return reached, deferred, {r: counts[r] for r in REASONS if counts[r]}


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_preview_counts_what_decide_says_member_by_member(app: Flask, data: Any) -> None:
    channel, scope, now, people = draw_world(data)
    ref = data.draw(st.sampled_from((None, *CAMPAIGNS[:2])), label="ref")
    app.config["CONSENT_DAILY_CAP"] = data.draw(st.integers(1, 4), label="daily cap")
    with app.app_context():
        try:
            ids = _build(people)
            campaign = Campaign.of(scope, ref)
            reached, deferred, excluded = _expected(load_facts(), campaign, channel, now, ids)
            preview = preview_channel(scope, channel, now, ref)
            assert preview.members == reached == audience(scope, channel, now, campaign)
            assert (preview.reached, preview.deferred) == (len(reached), deferred)
            assert preview.excluded == excluded
            assert [row[0] for row in preview.sample] == sorted(reached)
        finally:
            db.session.rollback()


def test_preview_of_a_channel_the_scope_does_not_offer_reaches_no_one(app: Flask) -> None:
    scope = Scope(
        slug="topic",
        title="Topic",
        about="p",
        consent_text="yes",
        channels=("email", "inbox"),
        earned_by=("account",),
        kind="editorial",
        max_per_week=1,
    )
    with app.app_context():
        member = world.add_member(1, T0)
        world.earn(member.id, "topic", T0)
        world.consent(
            member.id,
            "topic",
            "webhook",
            granted=True,
            version=1,
            at=T0 - timedelta(days=9),
            wording_hash=scope.wording_hash,
        )
        db.session.flush()
        preview = preview_channel(scope, "webhook", T0)
        assert preview == ChannelPreview("webhook", 0, 0, {"consented": 1, "address": 1})
