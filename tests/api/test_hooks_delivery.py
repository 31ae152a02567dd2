"""The worker's delivery of event webhooks against a real receiver on loopback: retries on the
Standard Webhooks schedule with one message id, the give-up, 410 Gone and days of failures
disabling the endpoint, replays, the address checked again at every send, a rotated secret
signing beside the new one, and a slow or failing endpoint not holding the others."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.api.hooks_fixtures import Crm, deliver, endpoint_row, log, register
from tests.conftest import PASSWORD, Clock


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def _confirmed_member(app: Flask, clock: Clock, email: str = "robin@example.com") -> int:
    """A member signs up and confirms: member.confirmed, action.recorded, reward.earned."""
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        created = members.create_member(email, PASSWORD, now=clock(), verified=True)
        db.session.commit()
        return int(created.id)


def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def _private(host: str, port: int) -> list[str]:
    return ["10.0.0.7"]


def test_a_failed_delivery_is_retried_on_the_schedule_with_the_same_message_id(
    app: Flask, clock: Clock
) -> None:
    with Crm(clock, answers=["500", "500", "503"]) as crm:
        endpoint_id = register(app, clock, crm, events=["member.confirmed"])
        _confirmed_member(app, clock)
        waits = []
        for _ in range(3):
            assert deliver(app) == {"retry": 1}
            [row] = log(app, endpoint_id)
            waits.append(row.next_attempt_at - clock())
            assert deliver(app) == {}  # not due yet
            clock.set(row.next_attempt_at)
        assert deliver(app) == {"sent": 1}
    assert waits == [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)]
    [row] = log(app, endpoint_id)
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("sent", 4, 204, None)
    assert row.sent_at == clock()
    assert len({r.headers["webhook-id"] for r in crm.received}) == 1
    assert crm.received[0].headers["webhook-id"] == row.message_id
    assert len({r.body for r in crm.received}) == 1  # the same bytes every time
    assert all(r.verified for r in crm.received)  # each signed at its own time
    assert endpoint_row(app, endpoint_id).failing_since is None  # the success cleared it


def test_after_the_last_retry_the_delivery_fails_and_the_log_says_why(
    app: Flask, clock: Clock
) -> None:
    from app.api.hooks_delivery import MAX_ATTEMPTS, SCHEDULE

    with Crm(clock, answers=["500"] * 20) as crm:
        endpoint_id = register(app, clock, crm, events=["member.confirmed"])
        _confirmed_member(app, clock)
        started = clock()
        waits = []
        for _ in range(MAX_ATTEMPTS - 1):
            assert deliver(app) == {"retry": 1}
            [row] = log(app, endpoint_id)
            waits.append(row.next_attempt_at - clock())
            clock.set(row.next_attempt_at)
        assert deliver(app) == {"failed": 1}
        clock.advance(days=1)
        assert deliver(app) == {}
    assert waits == list(SCHEDULE)
    [row] = log(app, endpoint_id)
    assert (row.state, row.attempts, row.last_status) == ("failed", 8, 500)
    assert row.last_error == "Answered 500: nope"
    assert len(crm.received) == 8
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.failing_since == started
    assert endpoint.disabled_at is None  # a day and a half of failures is not "for days"


def test_410_gone_fails_the_delivery_and_disables_the_endpoint(app: Flask, clock: Clock) -> None:
    from app.api import hooks
    from app.extensions import db

    with Crm(clock, answers=["410"]) as crm:
        endpoint_id = register(app, clock, crm)
        _confirmed_member(app, clock)  # three events
        assert deliver(app) == {"gone": 1, "released": 2}
        endpoint = endpoint_row(app, endpoint_id)
        assert endpoint.disabled_at == clock()
        assert "410 Gone" in endpoint.disabled_reason
        _confirmed_member(app, clock, "nova@example.com")  # not queued for a disabled endpoint
        clock.advance(hours=1)
        assert deliver(app) == {}  # what waited stays waiting
        assert [r.state for r in log(app)] == ["failed", "pending", "pending"]
        with app.app_context():
            found = hooks.get_endpoint(endpoint_id)
            assert found is not None
            hooks.enable_endpoint(found)
            db.session.commit()
        assert deliver(app) == {"sent": 2}
    assert len(crm.received) == 3
    assert endpoint_row(app, endpoint_id).disabled_reason is None


def test_an_endpoint_failing_for_days_is_disabled_with_the_reason(app: Flask, clock: Clock) -> None:
    with Crm(clock, answers=["502"] * 40) as crm:
        endpoint_id = register(app, clock, crm, events=["member.confirmed"])
        # A new member every day, each message retried on the schedule, never accepted.
        for day in range(6):
            _confirmed_member(app, clock, f"member{day}@example.com")
            for _ in range(5):
                deliver(app)
                clock.advance(hours=5)
        endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_at - endpoint.failing_since >= timedelta(days=5)
    assert "Every attempt failed since" in endpoint.disabled_reason
    assert "5 days" in endpoint.disabled_reason
    rows = log(app, endpoint_id)
    assert all(r.created_at <= endpoint.disabled_at for r in rows)  # nothing queued after
    assert sum(r.attempts for r in rows) == len(crm.received)  # nothing sent after
    assert len(rows) < 6  # the last members' confirmations were not queued for it


def test_a_replay_sends_the_same_message_again_and_is_logged_as_one(
    app: Flask, clock: Clock
) -> None:
    from app.api import hooks
    from app.extensions import db

    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm, events=["member.confirmed"])
        _confirmed_member(app, clock)
        assert deliver(app) == {"sent": 1}
        [original] = log(app, endpoint_id)
        clock.advance(days=3)
        with app.app_context():
            hooks.replay(endpoint_id, original.id, clock())
            db.session.commit()
        assert deliver(app) == {"sent": 1}
    first, again = crm.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == original.message_id
    assert first.body == again.body and again.verified
    assert first.headers["webhook-timestamp"] != again.headers["webhook-timestamp"]
    kept, replayed = log(app, endpoint_id)
    assert (replayed.replay_of, replayed.state, replayed.attempts) == (original.id, "sent", 1)
    assert kept.sent_at == original.sent_at


def test_the_address_is_checked_again_at_every_send(app: Flask, clock: Clock) -> None:
    """Its name resolved to a public address when it was added; now it leads inside."""
    from app.api import hooks
    from app.extensions import db

    with app.app_context():
        endpoint = hooks.add_endpoint(
            "https://crm.example.test/hooks", "", None, None, clock(), resolve=_public
        )
        db.session.commit()
        endpoint_id = endpoint.id
    _confirmed_member(app, clock)
    assert deliver(app, resolve=_private, allow_loopback=False) == {"retry": 1, "released": 2}
    row = next(r for r in log(app, endpoint_id) if r.attempts == 1)
    assert row.state == "pending" and row.last_status is None
    assert row.last_error == (
        "Not sent: crm.example.test leads to a private network address; use a public https address."
    )


def test_a_loopback_receiver_is_refused_at_send_without_the_test_setting(
    app: Flask, clock: Clock
) -> None:
    with Crm(clock) as crm:
        register(app, clock, crm, events=["member.confirmed"])
        _confirmed_member(app, clock)
        assert deliver(app, allow_loopback=False) == {"retry": 1}
    assert crm.received == []
    [row] = log(app)
    assert "loopback" in (row.last_error or "")


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(app: Flask, clock: Clock) -> None:
    from app.api import hooks
    from app.extensions import db

    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm, events=["member.confirmed"])
        old = crm.secrets[0]
        with app.app_context():
            found = hooks.get_endpoint(endpoint_id)
            assert found is not None
            hooks.rotate_secret(found, clock())
            db.session.commit()
            new = found.secret
        crm.secrets.append(new)
        _confirmed_member(app, clock)
        deliver(app)
        clock.advance(hours=25)
        _confirmed_member(app, clock, "nova@example.com")
        deliver(app)
    during, after = crm.received
    assert set(during.verified_with) == {old, new}
    assert len(during.headers["webhook-signature"].split()) == 2
    assert after.verified_with == (new,)
    assert len(after.headers["webhook-signature"].split()) == 1


def test_a_failing_endpoint_does_not_hold_the_others(app: Flask, clock: Clock) -> None:
    with Crm(clock, answers=["500"] * 5) as failing, Crm(clock) as working:
        failing_id = register(app, clock, failing)
        working_id = register(app, clock, working)
        _confirmed_member(app, clock)  # three events for each
        assert deliver(app) == {"retry": 1, "released": 2, "sent": 3}
    assert len(failing.received) == 1 and len(working.received) == 3
    waiting = [r for r in log(app, failing_id) if r.attempts == 0]
    assert len(waiting) == 2 and all(r.next_attempt_at == clock() for r in waiting)
    assert {r.state for r in log(app, working_id)} == {"sent"}


@pytest.mark.slow
def test_a_hanging_endpoint_costs_one_timeout_per_tick(app: Flask, clock: Clock) -> None:
    """The deadline is the real ten seconds of :mod:`app.outbound.client`."""
    with Crm(clock, answers=["hang"]) as hanging, Crm(clock) as working:
        register(app, clock, hanging)
        register(app, clock, working)
        _confirmed_member(app, clock)
        started = time.monotonic()
        assert deliver(app) == {"retry": 1, "released": 2, "sent": 3}
        assert time.monotonic() - started < 15
    [row] = [r for r in log(app) if r.attempts == 1 and r.state == "pending"]
    assert "did not answer" in (row.last_error or "")


def test_a_tick_over_its_budget_gives_the_rest_back(app: Flask, clock: Clock) -> None:
    with Crm(clock) as crm:
        register(app, clock, crm)
        _confirmed_member(app, clock)
        assert deliver(app, budget=0.0) == {"released": 3}
        assert [(r.state, r.attempts) for r in log(app)] == [("pending", 0)] * 3
        assert deliver(app) == {"sent": 3}
    assert len(crm.received) == 3


def test_a_claimed_delivery_is_not_claimed_twice_until_its_lease_ends(
    app: Flask, clock: Clock
) -> None:
    from app.api.hooks_delivery import LEASE, claim

    with Crm(clock) as crm:
        register(app, clock, crm, events=["member.confirmed"])
        _confirmed_member(app, clock)
        with app.app_context():
            [first] = claim(clock())
            assert claim(clock()) == []  # another worker finds nothing
            assert claim(clock() + LEASE - timedelta(seconds=1)) == []
            assert claim(clock() + LEASE) == [first]  # the first worker died: taken again
        [row] = log(app)
        assert row.attempts == 2
    assert crm.received == []


def test_deleting_a_member_drops_their_log_but_sends_what_waits(app: Flask, clock: Clock) -> None:
    from app.accounts.members import get_member
    from app.accounts.privacy import delete_member
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db

    with Crm(clock) as crm:
        register(app, clock, crm)
        member_id = _confirmed_member(app, clock)
        with app.app_context():
            scope = get_scope("newsletter")
            grant_consent(
                member_id, scope, "email", scope.wording_for("email"), Origin("form:x"), clock()
            )
            db.session.commit()
        assert deliver(app) == {"sent": 4}
        with app.app_context():
            member = get_member(member_id)
            assert member is not None
            delete_member(member, clock())
            db.session.commit()
        rows = log(app)
        assert [(r.event_type, r.state, r.member_id) for r in rows] == [
            ("consent.revoked", "pending", None)
        ]
        assert deliver(app) == {"sent": 1}
    revoked = crm.received[-1]
    assert revoked.type == "consent.revoked" and revoked.data["source"] == "deletion"
    assert revoked.data["member"]["email"] == "robin@example.com"


def test_deliveries_leave_the_log_30_days_after_they_finished(app: Flask, clock: Clock) -> None:
    with Crm(clock, answers=["204", "500"]) as crm:
        register(app, clock, crm)
        _confirmed_member(app, clock)
        assert deliver(app) == {"sent": 1, "retry": 1, "released": 1}
        first = log(app)[0]
        clock.advance(days=31)
        assert deliver(app) == {"sent": 2}  # queued 31 days ago, finished now: kept
        assert [(r.id, r.state) for r in log(app)] == [
            (first.id + 1, "sent"),
            (first.id + 2, "sent"),
        ]
        clock.advance(days=31)
        deliver(app)
    assert log(app) == []
    assert len(crm.received) == 4
