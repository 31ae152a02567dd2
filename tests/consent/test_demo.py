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
