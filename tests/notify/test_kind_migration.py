"""Upgrading a database that holds campaigns of the former ``transactional`` kind (migration
0006): unsent ones become drafts of their scope's kind, sent ones keep their history and are
shown as sent outside the gate, and every consent state learns the SHA-256 of its words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from app.database import migrate
from app.database.core import make_engine
from tests.conftest import PASSWORD
from tests.helpers import sign_in

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
CAMPAIGN = (
    "INSERT INTO campaigns (id, title, body, scope, kind, channels, state, send_at, "
    "created_at, updated_at) VALUES (:id, :title, 'Body', :scope, :kind, 'email', "
    ":state, :send_at, :at, :at)"
)


def test_transactional_campaigns_become_gated_drafts_or_history(app: Flask, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO members (id, email, email_key, display_name, role, time_zone, "
                "created_at) VALUES (1, 'a@example.com', 'a@example.com', '', 'member', 'UTC', "
                ":at)"
            ),
            {"at": AT},
        )
        rows = [
            (1, "Winter sale", "offers", "transactional", "draft", None),
            (2, "Spring sale", "offers", "transactional", "scheduled", AT),
            (3, "Old notice", "newsletter", "transactional", "scheduled", AT),
            (4, "Sent notice", "offers", "transactional", "sent", AT),
            (5, "A letter", "newsletter", "editorial", "draft", None),
            (6, "Gone scope", "retired", "transactional", "draft", None),
        ]
        for campaign_id, title, scope, kind, state, send_at in rows:
            connection.execute(
                text(CAMPAIGN),
                {
                    "id": campaign_id,
                    "title": title,
                    "scope": scope,
                    "kind": kind,
                    "state": state,
                    "send_at": send_at,
                    "at": AT,
                },
            )
        connection.execute(
            text(
                "INSERT INTO consent_subjects (id, member_id, salt, created_at) VALUES "
                "(1, 1, 's', :at)"
            ),
            {"at": AT},
        )
        connection.execute(
            text(
                "INSERT INTO consent_events (id, receipt, subject_id, scope, channel, action, at, "
                "source, wording, wording_version, wording_hash) VALUES (1, 'r1', 1, 'offers', "
                "'email', 'grant', :at, 'preferences', 'Yes.', 1, :hash)"
            ),
            {"at": AT, "hash": "a" * 64},
        )
        connection.execute(
            text(
                "INSERT INTO consent_states (member_id, scope, channel, granted, wording_version, "
                "granted_at, changed_at, event_id) VALUES (1, 'offers', 'email', 1, 1, :at, :at, "
                "1)"
            ),
            {"at": AT},
        )
    with app.app_context():  # the scopes of the app's content tell each scope's kind
        migrate.upgrade(engine)
    with engine.connect() as connection:
        campaigns = {
            row.id: (row.kind, row.state, row.send_at)
            for row in connection.execute(text("SELECT id, kind, state, send_at FROM campaigns"))
        }
        hashes = connection.execute(text("SELECT wording_hash FROM consent_states")).scalars()
        assert list(hashes) == ["a" * 64]
    assert campaigns == {
        1: ("promotional", "draft", None),
        2: ("promotional", "draft", None),
        3: ("editorial", "draft", None),
        4: ("transactional", "sent", campaigns[4][2]),
        5: ("editorial", "draft", None),
        6: ("promotional", "draft", None),
    }
    migrate.downgrade(engine, "0005")
    with engine.connect() as connection:
        columns = {row[1] for row in connection.execute(text("PRAGMA table_info(campaigns)"))}
        assert "promise_hash" not in columns
    engine.dispose()


def test_a_campaign_sent_outside_the_gate_is_labelled_so(
    app: Flask, marketer: str, clock: object
) -> None:
    from app.extensions import db
    from app.notify.models import Campaign

    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(
            Campaign(
                title="Old notice",
                body="Hi.",
                scope="offers",
                kind="transactional",
                channels="email",
                state="sent",
                created_at=now,
                updated_at=now,
            )
        )
        db.session.commit()
        campaign_id = db.session.scalar(text("SELECT id FROM campaigns"))
    client = app.test_client()
    sign_in(client, marketer, PASSWORD)
    page = client.get(f"/admin/campaigns/{campaign_id}").text
    assert "Sent outside the gate (the former transactional kind)" in page
