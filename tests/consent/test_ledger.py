"""The consent ledger: grants need the scope earned, revokes are always allowed, the current
state follows the latest event, and no row is ever updated or deleted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.accounts import members
from app.consent.errors import ChannelNotOffered, NotEarned, WordingChanged
from app.consent.ledger import consents
from app.consent.ledger.consents import Client, Origin
from app.consent.models import ConsentEvent, ConsentState
from app.consent.scopes import get_scope
from app.extensions import db
from tests.conftest import REPO, Clock

ORIGIN = Origin("preferences", "/me/permissions", Client("203.0.113.9", "Firefox"))
STOP = "Stop The weekly letter by email"  # the permissions page's button


def _member(clock: Clock, email: str = "l@example.com", verified: bool = True) -> int:
    member = members.create_member(email, None, now=clock(), verified=verified)
    db.session.flush()
    return member.id


def _events() -> int:
    return int(db.session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


def test_a_grant_records_the_exact_wording_its_version_source_and_a_salted_client_hash(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope("newsletter")
        event = consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
        db.session.commit()
        assert event is not None
        assert (event.action, event.scope, event.channel) == ("grant", "newsletter", "email")
        assert event.wording == scope.wording and event.wording_version == 1
        assert event.wording_hash == scope.wording_hash and len(event.wording_hash) == 64
        assert (event.source, event.page, event.at) == ("preferences", "/me/permissions", clock())
        assert event.client_hash and "203.0.113.9" not in event.client_hash
        other = _member(clock, "other@example.com")
        second = consents.grant_consent(other, scope, "email", scope.wording, ORIGIN, clock())
        assert second is not None and second.client_hash != event.client_hash  # own salt
        state = consents.states_of(member_id)[("newsletter", "email")]
        assert state.granted and state.granted_at == clock() and state.event_id == event.id


@pytest.mark.parametrize(
    ("scope_slug", "channel", "wording", "error"),
    [
        ("offers", "email", None, NotEarned),  # offers is earned by a survey or a code
        ("newsletter", "webhook", None, ChannelNotOffered),
        ("newsletter", "email", "Yes, send me everything.", WordingChanged),
    ],
)
def test_refused_grants_leave_the_ledger_unchanged(
    app: Flask,
    clock: Clock,
    scope_slug: str,
    channel: str,
    wording: str | None,
    error: type[Exception],
) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope(scope_slug)
        with pytest.raises(error):
            consents.grant_consent(
                member_id, scope, channel, wording or scope.wording, ORIGIN, clock()
            )
        assert _events() == 0 and consents.states_of(member_id) == {}


def test_an_unverified_member_has_not_earned_the_newsletter(app: Flask, clock: Clock) -> None:
    with app.app_context():
        member_id = _member(clock, verified=False)
        scope = get_scope("newsletter")
        with pytest.raises(NotEarned):
            consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())


def test_repeated_grants_and_revokes_add_events_only_when_the_answer_changes(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope("newsletter")
        assert (
            consents.revoke_consent(member_id, "newsletter", "email", ORIGIN, clock(), wording=STOP)
            is None
        )
        assert consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
        assert (
            consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
            is None
        )
        clock.advance(minutes=1)
        assert consents.revoke_consent(
            member_id, "newsletter", "email", ORIGIN, clock(), wording=STOP
        )
        assert (
            consents.revoke_consent(member_id, "newsletter", "email", ORIGIN, clock(), wording=STOP)
            is None
        )
        assert [e.action for e in consents.history(member_id)] == ["revoke", "grant"]


def test_revoking_is_allowed_for_a_scope_no_longer_held_or_offered(
    app: Flask, clock: Clock
) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope("newsletter")
        consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
        db.session.execute(text("DELETE FROM entitlements WHERE member_id = :m"), {"m": member_id})
        event = consents.revoke_consent(
            member_id, "newsletter", "email", ORIGIN, clock(), wording=STOP
        )
        assert (
            event is not None and not consents.states_of(member_id)[("newsletter", "email")].granted
        )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(("email", "inbox")), st.booleans()), min_size=1, max_size=12
    )
)
def test_the_state_is_always_the_latest_event(
    app: Flask, clock: Clock, steps: list[tuple[str, bool]]
) -> None:
    with app.app_context():
        try:
            member_id = _member(clock)
            scope = get_scope("newsletter")
            for n, (channel, grant) in enumerate(steps):
                clock.advance(seconds=n)
                if grant:
                    consents.grant_consent(
                        member_id, scope, channel, scope.wording, ORIGIN, clock()
                    )
                else:
                    consents.revoke_consent(
                        member_id, "newsletter", channel, ORIGIN, clock(), wording=STOP
                    )
            events = consents.history(member_id)
            for channel in ("email", "inbox"):
                latest = next((e for e in events if e.channel == channel), None)
                state = consents.states_of(member_id).get(("newsletter", channel))
                if latest is None:
                    assert state is None
                else:
                    assert state is not None and state.event_id == latest.id
                    assert state.granted is (latest.action == "grant")
        finally:
            db.session.rollback()


def test_the_database_refuses_to_update_or_delete_a_ledger_row(app: Flask, clock: Clock) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope("newsletter")
        consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
        db.session.commit()
        for statement in (
            "UPDATE consent_events SET wording = 'changed'",
            "DELETE FROM consent_events",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert _events() == 1
        assert db.session.scalar(select(ConsentEvent.wording)) == scope.wording


LEDGER_WRITE = re.compile(
    r"(update|delete)\(\s*ConsentEvent\b|(UPDATE|DELETE\s+FROM)\s+consent_events\b"
    r"|session\.delete\([^)]*event",
    re.IGNORECASE,
)


def test_no_code_path_updates_or_deletes_a_ledger_row() -> None:
    offenders = []
    for path in sorted((REPO / "app").rglob("*.py")):
        if "migrations" in path.parts:
            continue  # the migration creates the triggers that refuse it
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if LEDGER_WRITE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
    # and the one place that touches consent_events' neighbours only cuts the member link
    source = Path(REPO / "app/consent/ledger/consents.py").read_text()
    assert "update(ConsentSubject)" in source and "ConsentState" in source


def test_the_orm_never_flushes_a_change_to_an_event(app: Flask, clock: Clock) -> None:
    with app.app_context():
        member_id = _member(clock)
        scope = get_scope("newsletter")
        event = consents.grant_consent(member_id, scope, "email", scope.wording, ORIGIN, clock())
        db.session.commit()
        assert event is not None
        event.wording = "rewritten"
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(ConsentState.granted)) is True
