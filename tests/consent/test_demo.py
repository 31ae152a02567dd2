"""What ``flask serve`` prepares for the consent area on a fresh instance."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app.accounts import members
from app.consent.demo import DEMO_READER, ensure_demo_reader
from app.consent.gate import contacts
from app.consent.ledger import consents
from app.startup import startup_steps
from tests.conftest import Clock

# The demo itself: the repository's content/, not the tests' small folder.
pytestmark = pytest.mark.usefixtures("demo_content")


def test_a_demo_reader_with_a_consent_history_is_created_once(
    app: Flask, runner: FlaskCliRunner
) -> None:
    [step] = [step for name, step in startup_steps(app) if name == "consent"]
    with app.app_context():
        assert "created demo.reader@example.com" in (step() or "")
        reader = members.find_by_email(DEMO_READER)
        assert reader is not None and reader.time_zone == "Europe/Berlin"
        assert [e.action for e in consents.history(reader.id)] == ["revoke", "grant", "grant"]
        assert len(contacts.contacts_of(reader.id)) == 4
        assert ensure_demo_reader() is None
    result = runner.invoke(args=["consent", "explain", DEMO_READER, "newsletter"])
    assert result.exit_code == 0 and "Quiet hours 22:00-07:00 Europe/Berlin" in result.output


def test_most_demo_readers_said_yes_to_the_letter_so_a_filter_keeps_some(
    app: Flask, clock: Clock
) -> None:
    from app.consent.demo import ensure_demo_crowd_consents
    from app.consent.gate.audience import audience
    from app.consent.scopes import get_scope
    from app.engage.crowd import CROWD, ensure_demo_crowd
    from app.notify.targeting import parsed
    from app.notify.targeting_eval import members

    with app.app_context():
        ensure_demo_crowd()
        assert (
            ensure_demo_crowd_consents()
            == f"{CROWD * 3 // 4} demo readers said yes to The weekly letter"
        )
        assert ensure_demo_crowd_consents() is None  # once
        reached = audience(get_scope("newsletter"), "email", clock())
        assert len(reached) == CROWD * 3 // 4
        kept = members(parsed('survey:reader-2026 role = "Marketing or growth"'), reached, clock())
        assert 0 < len(kept) < len(reached)
