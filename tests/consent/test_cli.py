"""``flask consent explain``, ``scopes`` and ``tidy`` as an operator uses them."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner

from app.accounts import members
from app.consent.gate import contacts
from app.consent.ledger import consents, preferences
from app.consent.ledger.consents import Origin
from app.consent.scopes import get_scope
from app.extensions import db
from app.rewards.entitlements import grant
from tests.conftest import Clock


def _setup(app: Flask, member: Any, clock: Clock) -> None:
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(
            member.id,
            scope,
            "email",
            scope.wording,
            Origin("preferences"),
            clock() - timedelta(hours=3),
        )
        preferences.set_quiet_hours(member.id, time(22, 0), time(7, 0), clock())
        db.session.commit()


def test_explain_prints_every_check_with_its_fact_and_the_verdict(
    app: Flask, runner: FlaskCliRunner, member: Any, clock: Clock
) -> None:
    _setup(app, member, clock)
    result = runner.invoke(
        args=["consent", "explain", "Reader@example.com", "newsletter", "--channel", "email"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("reader@example.com · The weekly letter (newsletter) · email")
    assert len(lines) == 16
    assert "pass  account" in result.output and "The member is active." in result.output
    assert "pass  consented" in result.output and "Said yes on" in result.output
    assert "FAIL  cooldown" in result.output
    assert "24 hours after the grant, which ends" in result.output
    assert lines[-1] == "  => not allowed: cooldown"


def test_explain_at_a_later_time_and_for_every_channel(
    app: Flask, runner: FlaskCliRunner, member: Any, clock: Clock
) -> None:
    _setup(app, member, clock)
    later = (clock() + timedelta(days=2)).replace(hour=23, minute=30, tzinfo=None)
    result = runner.invoke(
        args=["consent", "explain", "reader@example.com", "newsletter", "--at", later.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "· email ·" in result.output and "· inbox ·" in result.output
    assert "FAIL  quiet" in result.output and "=> deferred until" in result.output
    assert "FAIL  consented      Never said yes to The weekly letter by inbox." in result.output


def test_explain_refuses_unknown_members_scopes_and_times(
    runner: FlaskCliRunner, member: Any
) -> None:
    result = runner.invoke(args=["consent", "explain", "nobody@example.com", "newsletter"])
    assert result.exit_code == 1 and "no member with the address nobody@example.com" in (
        result.output
    )
    result = runner.invoke(args=["consent", "explain", "reader@example.com", "gossip"])
    assert result.exit_code == 1 and "no scope 'gossip'; the scopes are newsletter" in (
        result.output
    )
    result = runner.invoke(
        args=["consent", "explain", "reader@example.com", "newsletter", "--at", "next friday"]
    )
    assert result.exit_code == 2 and "2026-06-12T09:00" in result.output


def test_tidy_revokes_lapsed_permissions_in_the_ledger(
    app: Flask, runner: FlaskCliRunner, member: Any, clock: Clock
) -> None:
    with app.app_context():
        scope = get_scope("offers")  # lapses after 365 days without use
        engaged = members.create_member("engaged@example.com", None, now=clock(), verified=True)
        for member_id in (member.id, engaged.id):
            grant(member_id, scope.reward, "code:spring-store", clock() - timedelta(days=400))
            for channel in ("email", "inbox"):
                consents.grant_consent(
                    member_id,
                    scope,
                    channel,
                    scope.wording,
                    Origin("preferences"),
                    clock() - timedelta(days=400),
                )
        contacts.record_contact(
            engaged.id,
            "offers",
            "inbox",
            campaign="o1",
            kind="promotional",
            ref="o1",
            sent_at=clock() - timedelta(days=100),
        )
        contacts.record_engagement("o1", clock() - timedelta(days=99), "click")
        db.session.commit()
        engaged_id = engaged.id
    result = runner.invoke(args=["consent", "tidy"])
    assert result.exit_code == 0 and "2 lapsed permissions revoked" in result.output
    with app.app_context():
        states = consents.states_of(member.id)
        assert not states[("offers", "email")].granted and not states[("offers", "inbox")].granted
        assert all(s.granted for s in consents.states_of(engaged_id).values())  # renewed by a click
        revoke = consents.history(member.id)[0]
        assert revoke.source == "expiry" and "lapsed after 365 days" in revoke.wording
    again = runner.invoke(args=["consent", "tidy"])
    assert "0 lapsed permissions revoked" in again.output


def test_scopes_lists_each_scope_with_its_audience(
    app: Flask, runner: FlaskCliRunner, member: Any, clock: Clock
) -> None:
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(
            member.id,
            scope,
            "email",
            scope.wording,
            Origin("preferences"),
            clock() - timedelta(days=3),
        )
        db.session.commit()
    result = runner.invoke(args=["consent", "scopes"])
    assert result.exit_code == 0
    assert "newsletter\teditorial\tv1\t1/week\taudience: email 1, inbox 0" in result.output
    assert result.output.count("\n") == 3
