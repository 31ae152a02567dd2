"""The product's words as types in the database: a state, channel or kind column reads back as a
member of its ``StrEnum``, refuses a word that is not one before anything is written, and the
database's own CHECK lists exactly the enum's members."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from app.consent.terms import GATED_KINDS, CampaignKind, Channel, GateReason
from app.notify.states import CampaignState, DeliveryState
from tests.conftest import Clock


def _campaign(now: object) -> object:
    from app.notify.models import Campaign

    return Campaign(
        title="Spring letter",
        body="Hello",
        scope="newsletter",
        kind=CampaignKind.EDITORIAL,
        channels="email,inbox",
        state=CampaignState.DRAFT,
        created_at=now,
        updated_at=now,
    )


def test_a_state_reads_back_as_a_member_of_its_enum(app: Flask, clock: Clock) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    with app.app_context():
        db.session.add(_campaign(clock()))
        db.session.commit()
        db.session.expunge_all()
        found = db.session.scalars(select(Campaign)).one()
        assert found.state is CampaignState.DRAFT
        assert found.kind is CampaignKind.EDITORIAL
        assert found.channel_list == [Channel.EMAIL, Channel.INBOX]
        # the stored text is the word itself, so templates and exports show it unchanged
        assert f"{found.state}" == "draft" and found.state == "draft"


def test_a_word_that_is_not_a_member_is_refused_before_it_is_written(
    app: Flask, clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    with app.app_context():
        campaign = _campaign(clock())
        campaign.state = "sen"  # type: ignore[attr-defined]
        db.session.add(campaign)
        with pytest.raises(StatementError, match="'sen' is not a valid CampaignState"):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize(
    ("table", "column", "words"),
    [
        ("campaigns", "state", {s.value for s in CampaignState}),
        ("campaigns", "kind", {k.value for k in CampaignKind}),
    ],
)
def test_the_database_check_lists_exactly_the_enum(
    app: Flask, table: str, column: str, words: set[str]
) -> None:
    from app.extensions import db

    with app.app_context():
        checks = inspect(db.engine).get_check_constraints(table)
    # SQLite gives the CHECK as written (state IN (...)); PostgreSQL as it understood it
    # (state::text = ANY (ARRAY['draft'::character varying, ...]))
    found = [c["sqltext"] for c in checks if re.match(rf"\(*{column}\b", c["sqltext"])]
    assert len(found) == 1, checks
    assert set(re.findall(r"'([^']+)'", found[0])) == words


def test_every_word_fits_its_column(app: Flask) -> None:
    from app.consent.models import ConsentEvent, Contact
    from app.notify.models import Campaign, Delivery

    columns = [
        (Campaign.__table__.c.state, CampaignState),
        (Campaign.__table__.c.kind, CampaignKind),
        (Delivery.__table__.c.state, DeliveryState),
        (Delivery.__table__.c.channel, Channel),
        (Delivery.__table__.c.reason, GateReason),
        (ConsentEvent.__table__.c.channel, Channel),
        (Contact.__table__.c.kind, CampaignKind),
    ]
    for column, enum in columns:
        assert all(len(word) <= column.type.length for word in enum), column


def test_the_gate_applies_to_every_kind_a_marketer_can_choose() -> None:
    from app.notify.campaigns import KINDS

    assert set(KINDS) == set(GATED_KINDS)
    assert CampaignKind.SENT_OUTSIDE_GATE not in GATED_KINDS
