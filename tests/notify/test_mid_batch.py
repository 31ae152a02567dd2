"""The whole gate at send time: a gate input changed while a batch is being sent is honoured by
the very next delivery to that member, on SQLite and PostgreSQL.

Each change is made from inside a real receiver while it takes the member's first message (the
aiosmtpd server's DATA handler, or a webhook endpoint), in a thread of its own with its own
database session, exactly as a member's click on the site would arrive. On PostgreSQL the rows
behind the gate's facts are held ``FOR SHARE`` through the send, so the change waits for that
message to be recorded; the receiver holds the *next* member's message until the change is
committed, so the member's second delivery is always decided after it.

The batch is laid out as ``first channel: A, B`` then ``second channel: A, B``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import delete, select

from tests.conftest import Clock
from tests.helpers import free_port
from tests.notify.crowd import add_crowd
from tests.notify.rows import delivery_rows

Change = Callable[[int, datetime], None]


class MidBatch:
    """Runs ``change`` for member ``target`` in a thread when the target's first message
    arrives, and holds every later message until the change is committed."""

    def __init__(self, app: Flask, clock: Clock) -> None:
        self.app, self.clock = app, clock
        self.target: int | None = None
        self.change: Change | None = None
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.received: list[int] = []
        self.lock = threading.Lock()

    def arrived(self, member_id: int) -> None:
        with self.lock:
            self.received.append(member_id)
            first = member_id == self.target and self.thread is None
            if first:
                self.thread = threading.Thread(target=self._apply, daemon=True)
                self.thread.start()
        if not first and self.thread is not None:
            self.thread.join(20)
            assert not self.thread.is_alive(), "the change never committed"

    def _apply(self) -> None:
        from app.extensions import db

        assert self.change is not None and self.target is not None
        try:
            with self.app.app_context():
                self.change(self.target, self.clock())
                db.session.commit()
        except BaseException as exc:  # shown by the test, not lost in the thread
            self.failure = exc


class _Handler:
    def __init__(self, batch: MidBatch, members: dict[str, int]) -> None:
        self.batch, self.members = batch, members

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        [recipient] = envelope.rcpt_tos
        self.batch.arrived(self.members[recipient.lower()])
        return "250 OK"


@dataclass
class World:
    app: Flask
    clock: Clock
    batch: MidBatch
    members: list[int]
    emails: dict[int, str]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


@pytest.fixture
def mid_batch(app: Flask, clock: Clock) -> MidBatch:
    return MidBatch(app, clock)


@pytest.fixture
def smtp_world(app: Flask, clock: Clock, mid_batch: MidBatch) -> Iterator[World]:
    crowd = add_crowd(app, 2, clock(), channels=("email", "inbox"))
    port = free_port()
    controller = Controller(
        _Handler(mid_batch, {e.lower(): m for m, e in crowd.emails.items()}),
        hostname="127.0.0.1",
        port=port,
    )
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield World(app, clock, mid_batch, crowd.ids, crowd.emails)
    finally:
        controller.stop()


@pytest.fixture
def webhook_world(app: Flask, clock: Clock, mid_batch: MidBatch, smtp: Any) -> Iterator[World]:
    from app.consent.models import WebhookEndpoint
    from app.extensions import db
    from app.outbound.signing import new_secret

    crowd = add_crowd(app, 2, clock(), scope="offers", channels=("webhook", "email"))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            mid_batch.arrived(int(self.path.rsplit("/", 1)[-1]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.app_context():
        for member_id in crowd.ids:
            db.session.add(
                WebhookEndpoint(
                    member_id=member_id,
                    secret=new_secret(),
                    url=f"http://127.0.0.1:{server.server_address[1]}/hooks/{member_id}",
                    created_at=clock() - timedelta(days=7),
                    verified_at=clock() - timedelta(days=7),
                )
            )
        db.session.commit()
    app.config["MAIL_URL"] = smtp.url
    try:
        yield World(app, clock, mid_batch, crowd.ids, crowd.emails)
    finally:
        server.shutdown()
        server.server_close()


# --- the changes a member (or the mail system) makes while the batch goes out -----------------


def revoke(member_id: int, now: datetime) -> None:
    from app.consent.ledger.consents import Origin, revoke_consent

    revoke_consent(
        member_id,
        "newsletter",
        "inbox",
        Origin("preferences"),
        now,
        wording="Stop The weekly letter in your inbox on this site",
    )


def pause_everything(member_id: int, now: datetime) -> None:
    from app.consent.ledger.preferences import pause_everything as pause

    pause(member_id, 3, now)


def not_for_me(member_id: int, now: datetime) -> None:
    from app.consent.gate.contacts import not_for_me as say

    say(member_id, "newsletter", now)


def quiet_hours_now(member_id: int, now: datetime) -> None:
    from app.consent.ledger.preferences import set_quiet_hours

    set_quiet_hours(member_id, time(9, 0), time(11, 30), now)


def move_to_kiritimati(member_id: int, now: datetime) -> None:
    from app.accounts.models import Member
    from app.extensions import db

    member = db.session.get(Member, member_id)
    assert member is not None
    member.time_zone = "Pacific/Kiritimati"  # 10:00 UTC on a Friday is midnight on Saturday


def delete_account(member_id: int, now: datetime) -> None:
    from app.accounts.models import Member
    from app.accounts.privacy import delete_member
    from app.extensions import db

    member = db.session.get(Member, member_id)
    assert member is not None
    delete_member(member, now)


def lose_the_scope(member_id: int, now: datetime) -> None:
    from app.extensions import db
    from app.rewards.models import Entitlement

    db.session.execute(delete(Entitlement).where(Entitlement.member_id == member_id))


def another_campaign_arrives(member_id: int, now: datetime) -> None:
    from app.consent.gate.contacts import record_contact

    record_contact(
        member_id,
        "newsletter",
        "email",
        campaign="campaign-elsewhere",
        kind="editorial",
        ref="elsewhere-1",
        sent_at=now,
    )


def hard_bounce(member_id: int, now: datetime) -> None:
    from app.accounts.models import Member
    from app.consent.gate.contacts import record_suppression
    from app.extensions import db

    member = db.session.get(Member, member_id)
    assert member is not None
    record_suppression(member.email, "hard-bounce", now)


def friday(clock: Clock, hour: int, minute: int = 0, weeks: int = 0) -> datetime:
    return clock().replace(hour=hour, minute=minute, tzinfo=UTC) + timedelta(weeks=weeks)


SMTP_CASES = [
    ("a revoke", revoke, "suppressed", "consented", None),
    ("pause everything", pause_everything, "suppressed", "paused", None),
    ("not for me", not_for_me, "suppressed", "paused", None),
    ("quiet hours that cover now", quiet_hours_now, "queued", None, (11, 30, 0)),
    ("a time zone where the window is shut", move_to_kiritimati, "queued", None, None),
    ("a deleted account", delete_account, "suppressed", "account", None),
    ("the scope's entitlement gone", lose_the_scope, "suppressed", "earned", None),
    ("another campaign reached the cap", another_campaign_arrives, "suppressed", "cap", None),
]


def _run(world: World, campaign: Callable[..., int], change: Change, **draft: Any) -> list[Any]:
    from app.notify.worker import Worker

    world.batch.target, world.batch.change = world.members[0], change
    campaign_id = campaign(**draft)
    with world.app.app_context():
        done = Worker(name="mid-batch", batch=10).run_batch()
    assert world.batch.failure is None, world.batch.failure
    assert sum(done.values()) == 4, done
    return delivery_rows(world.app, campaign_id)


@pytest.mark.parametrize(
    ("name", "change", "state", "reason", "deferred"),
    SMTP_CASES,
    ids=[case[0] for case in SMTP_CASES],
)
def test_a_change_during_the_mail_is_honoured_by_the_next_delivery(
    smtp_world: World,
    campaign: Callable[..., int],
    name: str,
    change: Change,
    state: str,
    reason: str | None,
    deferred: tuple[int, int, int] | None,
) -> None:
    rows = _run(smtp_world, campaign, change, channels=("email", "inbox"))
    first, other = smtp_world.members
    by_key = {(row.channel, row.member_id): row for row in rows}
    assert smtp_world.batch.received == [first, other]  # both mails went; the change came between
    assert by_key[("email", other)].state == by_key[("inbox", other)].state == "sent"
    if change is delete_account:  # the member's outbox rows went with the account
        assert {key for key in by_key if key[1] == first} == set()
        return
    assert by_key[("email", first)].state == "sent"
    changed = by_key[("inbox", first)]
    assert (changed.state, changed.reason) == (state, reason), name
    if state == "queued":
        assert changed.sent_at is None and changed.attempts == 0
        if deferred is not None:
            assert changed.due_at == friday(smtp_world.clock, *deferred[:2])
        else:  # next Friday 08:00 in Kiritimati (UTC+14) is Thursday 18:00 UTC
            assert changed.due_at == friday(smtp_world.clock, 18, weeks=1) - timedelta(days=1)


def test_a_bounce_reported_during_a_webhook_is_honoured_by_the_next_mail(
    webhook_world: World, campaign: Callable[..., int], smtp: Any
) -> None:
    rows = _run(
        webhook_world,
        campaign,
        hard_bounce,
        scope="offers",
        kind="promotional",
        channels=("webhook", "email"),
        title="A member offer",
    )
    first, other = webhook_world.members
    by_key = {(row.channel, row.member_id): row for row in rows}
    assert by_key[("webhook", first)].state == by_key[("webhook", other)].state == "sent", [
        (r.channel, r.member_id, r.state, r.last_error) for r in rows
    ]
    assert (by_key[("email", first)].state, by_key[("email", first)].reason) == (
        "suppressed",
        "suppressed",
    )
    assert by_key[("email", other)].state == "sent"
    [mail] = smtp.wait_for(1)
    assert webhook_world.emails[other] in str(mail["To"])


def test_the_worker_reads_no_fact_a_batch_ago(
    smtp_world: World, campaign: Callable[..., int]
) -> None:
    """Without any change, every delivery of the batch goes: the receivers' hold on later
    messages does not by itself change an answer."""
    rows = _run(smtp_world, campaign, lambda member_id, now: None, channels=("email", "inbox"))
    assert [row.state for row in rows] == ["sent"] * 4
    from app.extensions import db
    from app.notify.models import Delivery

    with smtp_world.app.app_context():
        assert db.session.scalar(select(Delivery.id).where(Delivery.state != "sent")) is None
