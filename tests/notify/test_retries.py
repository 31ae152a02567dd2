"""Retries, leases and the dead letter: exponential backoff with jitter, the dead letter after
NOTIFY_MAX_ATTEMPTS, expired leases taken by another worker, the same Message-ID on every
attempt, and a worker process that stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Clock
from tests.helpers import SMTPSink
from tests.notify.crowd import add_crowd
from tests.notify.rows import BASE, delivery_rows, retry_bounds
from tests.notify.workers import (
    HoldingSink,
    RefusingSink,
    WorkerProcess,
    email_channel,
    unscheduled_content,
    worker_env,
)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # Some tests here start worker processes, which run on the real clock.
    app_config["CONTENT_DIR"] = str(unscheduled_content(tmp_path))
    return app_config


def test_backoff_doubles_with_jitter_and_stops_at_six_hours() -> None:
    from app.notify.worker import backoff

    for attempts in range(1, 21):
        low, high = retry_bounds(attempts)
        waits = [backoff(attempts, BASE).total_seconds() for _ in range(300)]
        assert all(low <= wait <= high for wait in waits), attempts
        # jitter: the waits spread over the range instead of all being the same
        assert min(waits) < low * 1.2 and max(waits) > high * 0.8, attempts
    assert backoff(40, BASE) <= timedelta(hours=9)


@pytest.mark.parametrize("max_attempts", [8, 3])
def test_each_failure_waits_within_the_bounds_then_the_dead_letter(
    app: Flask,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
    max_attempts: int,
    request: pytest.FixtureRequest,
) -> None:
    add_crowd(app, 1, clock())
    sink = RefusingSink(refusals=100)  # takes the connection, refuses the message: 451
    sink.start()
    request.addfinalizer(sink.stop)
    app.config["MAIL_URL"] = sink.url
    app.config["NOTIFY_MAX_ATTEMPTS"] = max_attempts
    campaign_id = campaign()
    for attempt in range(1, max_attempts):
        assert work() == {"retry": 1}
        [row] = delivery_rows(app, campaign_id)
        assert row.state == "retry" and row.attempts == attempt
        assert row.leased_by is None and row.lease_until is None
        assert "451" in (row.last_error or "")
        low, high = retry_bounds(attempt)
        waited = (row.due_at - clock()).total_seconds()
        assert low <= waited <= high, (attempt, waited)
        clock.set(row.due_at - timedelta(seconds=1))
        assert work() == {}  # not due yet
        clock.set(row.due_at)
    assert work() == {"dead": 1}
    [row] = delivery_rows(app, campaign_id)
    assert (row.state, row.reason, row.attempts) == ("dead", "attempts", max_attempts)
    clock.advance(days=2)
    assert work() == {}  # the dead letter is never taken again


def test_an_expired_lease_is_taken_by_another_worker(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    from app.extensions import db
    from app.notify import outbox
    from app.notify.worker import Worker

    crowd = add_crowd(app, 2, clock())
    campaign_id = campaign()
    with app.app_context():
        gone = Worker(name="gone")  # claims, then dies without a word
        claimed = outbox.claim(gone.name, 10, clock(), gone.lease)
    assert len(claimed) == 2
    assert work(name="second") == {}  # a lease that runs is respected
    clock.advance(seconds=app.config["NOTIFY_LEASE_SECONDS"] + 1)
    assert work(name="second") == {"sent": 2}
    rows = delivery_rows(app, campaign_id)
    assert [(r.state, r.leased_by, r.attempts) for r in rows] == [("sent", "second", 2)] * 2
    messages = smtp.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == sorted(crowd.emails.values())
    # The first worker comes back: it no longer holds the rows and sends nothing.
    with app.app_context():
        db.session.commit()
        outcomes = [gone._deliver(row_id, {}) for row_id in claimed]
    assert outcomes == ["lost-lease", "lost-lease"]
    assert len(smtp.messages) == 2


def test_every_attempt_carries_the_same_message_id(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable
) -> None:
    add_crowd(app, 1, clock())
    sink = RefusingSink(refusals=2)  # 451 twice, then accepts
    sink.start()
    try:
        app.config["MAIL_URL"] = sink.url
        campaign_id = campaign()
        for _ in range(2):
            assert work() == {"retry": 1}
            [row] = delivery_rows(app, campaign_id)
            assert "451" in (row.last_error or "")
            clock.set(row.due_at)
        assert work() == {"sent": 1}
        [received] = sink.wait_for(1)
    finally:
        sink.stop()
    [row] = delivery_rows(app, campaign_id)
    expected = f"<delivery-{row.id}@pullfirst.example>"
    assert sink.seen == [expected] * 3
    assert received["Message-ID"] == row.message_id == expected
    assert (row.state, row.attempts) == ("sent", 3)


@pytest.mark.slow
def test_sigterm_finishes_the_current_delivery_and_gives_the_rest_back(
    app: Flask,
    app_config: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    campaign: Callable[..., int],
    work: Callable,
) -> None:
    add_crowd(app, 10, clock())
    sink = HoldingSink(hold_at=3)  # the third message waits for its reply
    sink.start()
    worker = None
    try:
        campaign_id = campaign()
        env = worker_env(app_config, Path(app.instance_path), MAIL_URL=sink.url)
        worker = WorkerProcess(env, tmp_path / "worker.log", "--batch", "10")
        assert sink.arrived.wait(60), worker.console()
        worker.process.send_signal(signal.SIGTERM)  # while the third send waits
        time.sleep(0.5)
        assert worker.alive(), worker.console()
        sink.release.set()
        assert worker.process.wait(timeout=60) == 0, worker.console()
        assert "stopped: 7 released, 3 sent" in worker.console()
        rows = delivery_rows(app, campaign_id)
        assert [row.state for row in rows] == ["sent"] * 3 + ["queued"] * 7
        assert all(
            row.leased_by is None and row.lease_until is None and row.attempts == 0
            for row in rows[3:]
        )  # given back, not stuck in a lease
        assert len(sink.messages) == 3
        # Another worker sends the rest right away, once each.
        app.config["MAIL_URL"] = sink.url
        assert work() == {"sent": 7}
        received = sink.wait_for(10)
        assert len({str(m["Message-ID"]) for m in received}) == len(received) == 10
    finally:
        sink.release.set()
        if worker is not None:
            worker.ensure_stopped()
        sink.stop()


def test_a_campaign_cancelled_while_its_deliveries_are_leased_sends_nothing_more(
    app: Flask, clock: Clock, campaign: Callable[..., int], smtp: SMTPSink
) -> None:
    """The worker reads the campaign again with each delivery it takes, so a cancel that
    commits after the worker loaded its batch stops the rest of the batch."""
    from sqlalchemy import select, text

    from app.extensions import db
    from app.notify import outbox
    from app.notify.models import Delivery
    from app.notify.worker import Worker

    add_crowd(app, 4, clock())
    campaign_id = campaign()
    with app.app_context():
        worker = Worker(name="w")
        claimed = outbox.claim(worker.name, 10, clock(), worker.lease)
        rows = list(
            db.session.scalars(
                select(Delivery).where(Delivery.id.in_(claimed)).order_by(Delivery.id)
            )
        )
        assert {row.campaign.state for row in rows} == {"sending"}  # now in the session
        db.session.commit()
        email = email_channel(app)
        try:
            first = worker._deliver(rows[0].id, {"email": email})
            with db.engine.begin() as other:  # a marketer cancels, on another connection
                other.execute(
                    text("UPDATE campaigns SET state = 'cancelled' WHERE id = :id"),
                    {"id": campaign_id},
                )
            rest = [worker._deliver(row.id, {"email": email}) for row in rows[1:]]
        finally:
            email.close()
    assert (first, rest) == ("sent", ["cancelled"] * 3)
    assert len(smtp.wait_for(1)) == 1
    assert [row.state for row in delivery_rows(app, campaign_id)] == ["sent"] + ["cancelled"] * 3
