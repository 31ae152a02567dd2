"""Faults: workers killed mid-batch, many workers on one outbox, an SMTP server that is down,
and hostile names and subjects. Everything against real peers: worker processes started with
``flask --app app notify worker``, the aiosmtpd sink, the test's own database.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Clock, is_postgres
from tests.helpers import SMTPSink, free_port, text_body
from tests.notify.crowd import add_crowd
from tests.notify.rows import by_message_id, delivery_rows, states
from tests.notify.workers import (
    RefusingSink,
    UnknownUserSink,
    WorkerProcess,
    sink_on,
    unscheduled_content,
    wait_until,
    worker_env,
)

# What a reader must never find in a header value once the mail was parsed: control
# characters and everything str.splitlines() breaks on.
FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "X-Pullfirst-Delivery",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "Content-Type",
    "MIME-Version",
}


# --- SIGKILL in the middle of a batch ---------------------------------------------------------

KILLS = 10
KILL_DELIVERIES = 2_000
BATCH = 40
STEP = 97  # messages between kills: not a multiple of the batch, so kills land inside one


@pytest.mark.slow
def test_a_worker_killed_mid_batch_ten_times_loses_nothing(
    app: Flask,
    app_config: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    campaign: Callable[..., int],
    smtp: SMTPSink,
    record_property: Callable[..., None],
) -> None:
    """SIGKILL leaves a batch leased and maybe one mail sent but not recorded. The lease runs
    out, another worker takes the rows again, and the mail that went twice carries the same
    Message-ID both times. Each kill comes as soon as the sink accepted a message, before the
    worker could record it: the worst moment, so every kill costs one duplicate."""
    crowd = add_crowd(app, KILL_DELIVERIES, clock())
    campaign_id = campaign()
    env = worker_env(
        app_config, Path(app.instance_path), NOTIFY_LEASE_SECONDS=5, NOTIFY_POLL_SECONDS=0.2
    )
    log = tmp_path / "workers.log"
    started: list[WorkerProcess] = []
    try:
        for _ in range(KILLS):
            worker = WorkerProcess(env, log, "--batch", str(BATCH))
            started.append(worker)
            target = len(smtp.messages) + STEP
            wait_until(
                lambda goal=target: len(smtp.messages) >= goal,
                120,
                f"{target} messages before the kill",
                [worker],
                interval=0.002,
            )
            assert worker.kill() == -9
        assert states(app, campaign_id)["sent"] < KILL_DELIVERIES  # work was left over
        last = WorkerProcess(env, log, "--batch", str(BATCH))
        started.append(last)
        wait_until(
            lambda: states(app, campaign_id)["sent"] == KILL_DELIVERIES,
            300,
            "every delivery sent",
            [last],
            interval=0.2,
        )
        assert last.terminate() == 0
    finally:
        for worker in started:
            worker.ensure_stopped()

    rows = delivery_rows(app, campaign_id)
    assert {row.state for row in rows} == {"sent"} and len(rows) == KILL_DELIVERIES
    received = by_message_id(smtp.messages)
    expected = {f"<delivery-{row.id}@pullfirst.example>": row for row in rows}
    assert set(received) == set(expected)  # nothing lost, no stranger
    assert {row.message_id for row in rows} == set(expected)
    assert {addr for _, rcpts in smtp.envelopes for addr in rcpts} == set(crowd.emails.values())
    duplicates = len(smtp.messages) - len(received)
    for message_id, copies in received.items():
        row = expected[message_id]
        assert {str(copy["To"]) for copy in copies} == {crowd.emails[row.member_id]}
        assert {str(copy["X-Pullfirst-Delivery"]) for copy in copies} == {str(row.id)}
        if len(copies) > 1:
            assert row.attempts >= len(copies)  # it was claimed again after a kill
    # A worker records each delivery before it sends the next: one kill, at most one repeat.
    assert duplicates <= KILLS
    retaken = sum(1 for row in rows if row.attempts > 1)
    assert retaken > KILLS  # the rest of each killed batch was leased, and taken again
    record_property("duplicates", duplicates)
    print(
        f"\nSIGKILL x{KILLS} over {KILL_DELIVERIES:,} deliveries: {len(smtp.messages):,} "
        f"messages received, {duplicates} duplicate(s) (same Message-ID twice), "
        f"{retaken} deliveries claimed again after a kill"
    )


# --- four workers on PostgreSQL ---------------------------------------------------------------

MANY = 10_000


@pytest.mark.slow
@pytest.mark.skipif(
    not is_postgres(),
    reason="several workers share an outbox only on "
    "PostgreSQL (FOR UPDATE SKIP LOCKED); SQLite runs one worker",
)
def test_four_workers_deliver_each_message_exactly_once(
    app: Flask,
    app_config: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    campaign: Callable[..., int],
    smtp: SMTPSink,
) -> None:
    crowd = add_crowd(app, MANY, clock())
    campaign_id = campaign()
    env = worker_env(app_config, Path(app.instance_path), NOTIFY_POLL_SECONDS=0.2)
    workers = [WorkerProcess(env, tmp_path / f"worker{n}.log", "--batch", "50") for n in range(4)]
    try:
        wait_until(
            lambda: states(app, campaign_id)["sent"] == MANY,
            600,
            "every delivery sent",
            workers,
            interval=0.5,
        )
        assert [worker.terminate() for worker in workers] == [0, 0, 0, 0]
    finally:
        for worker in workers:
            worker.ensure_stopped()

    received = by_message_id(smtp.wait_for(MANY))
    assert len(smtp.messages) == MANY and len(received) == MANY  # no Message-ID twice
    rows = delivery_rows(app, campaign_id)
    assert {f"<delivery-{row.id}@pullfirst.example>" for row in rows} == set(received)
    assert all(row.state == "sent" and row.attempts == 1 for row in rows)  # claimed once
    assert sorted(addr for _, rcpts in smtp.envelopes for addr in rcpts) == sorted(
        crowd.emails.values()
    )
    share = Counter(row.leased_by for row in rows)
    assert None not in share and len(share) >= 2, share
    print(
        f"\n4 workers over {MANY:,} deliveries: "
        + ", ".join(str(count) for _, count in share.most_common())
    )


# --- an SMTP server down for 30 s -------------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # Some tests here start worker processes, which run on the real clock.
    app_config["CONTENT_DIR"] = str(unscheduled_content(tmp_path))
    return app_config


def test_an_smtp_relay_down_for_two_minutes_costs_no_attempt(
    app: Flask, clock: Clock, campaign: Callable[..., int]
) -> None:
    """With three attempts and a one-second retry base, a two-minute outage would have
    dead-lettered everything had each failed connection spent an attempt."""
    from app.notify.worker import Worker

    app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    app.config["NOTIFY_RETRY_SECONDS"] = 1.0
    crowd = add_crowd(app, 40, clock())
    port = free_port()  # nothing listens there yet
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    campaign_id = campaign()
    order = [row.id for row in delivery_rows(app, campaign_id)]
    began = clock()
    with app.app_context():
        worker = Worker(name="through-the-outage", batch=10)  # one worker, its circuit kept
        tries = 0
        while clock() - began <= timedelta(minutes=2):
            done = worker.run_batch()
            assert "sent" not in done and "dead" not in done and "retry" not in done, done
            tries += done["held"] > 0
            clock.advance(seconds=5)
        rows = delivery_rows(app, campaign_id)
        assert {row.state for row in rows} == {"queued"}
        assert {row.attempts for row in rows} == {0}  # the outage cost nobody an attempt
        assert [row.id for row in sorted(rows, key=lambda r: (r.due_at, r.id))] == order
        assert 3 <= tries <= 12  # tried again with backoff, not on every tick
        assert worker.circuits["email"].failures == tries

        sink = sink_on(port)
        try:
            clock.advance(hours=6)  # past any backoff: the next try finds the relay back
            while states(app, campaign_id)["sent"] < 40 and clock() - began < timedelta(days=1):
                done = worker.run_batch()
                assert "dead" not in done and "retry" not in done, done
                clock.advance(seconds=5)
            sink.wait_for(40)
        finally:
            sink.stop()
    assert "email" not in worker.circuits
    rows = delivery_rows(app, campaign_id)
    assert {row.state for row in rows} == {"sent"} and {row.attempts for row in rows} == {1}
    received = by_message_id(sink.messages)
    assert len(sink.messages) == len(received) == 40  # each exactly once
    assert {str(m["To"]) for m in sink.messages} == set(crowd.emails.values())
    # They went out in the order they were queued.
    assert [int(m["X-Pullfirst-Delivery"]) for m in sink.messages] == order


def test_a_refused_recipient_spends_an_attempt_and_a_down_relay_does_not(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable
) -> None:
    add_crowd(app, 2, clock())
    sink = RefusingSink(refusals=1)  # 451 for the first recipient: judged, so it counts
    sink.start()
    try:
        app.config["MAIL_URL"] = sink.url
        campaign_id = campaign()
        assert work() == {"retry": 1, "sent": 1}
    finally:
        sink.stop()
    [retried] = [row for row in delivery_rows(app, campaign_id) if row.state == "retry"]
    assert retried.attempts == 1 and "451" in (retried.last_error or "")


def test_a_mailbox_that_does_not_exist_is_a_hard_bounce(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable
) -> None:
    """A 550 to RCPT ends the delivery and suppresses the address; a 451 at DATA (above) is
    only retried: the worker tells them apart by what the relay refused, not by words."""
    from app.consent.models import Suppression
    from app.extensions import db

    crowd = add_crowd(app, 2, clock())
    gone = crowd.emails[crowd.ids[0]]
    sink = UnknownUserSink({gone})
    sink.start()
    try:
        app.config["MAIL_URL"] = sink.url
        campaign_id = campaign()
        assert work() == {"dead": 1, "sent": 1}
    finally:
        sink.stop()
    [dead] = [row for row in delivery_rows(app, campaign_id) if row.state == "dead"]
    assert dead.member_id == crowd.ids[0] and dead.reason == "refused"
    assert "550" in (dead.last_error or "")
    with app.app_context():
        reasons = [s.reason for s in db.session.query(Suppression).all()]
    assert reasons == ["hard-bounce"]


# --- hostile display names and subjects -------------------------------------------------------

BAD = [  # each one, raw or encoded, would end the header line or hide a character
    "\r\nBcc: x@evil",
    "\nBcc: x@evil",
    "\rBcc: x@evil",
    "\r\n\r\n<b>body</b>",
    "\x00",
    "\u2028Bcc: x@evil",
    "\u2029",
    "\x85Bcc: x@evil",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1e",
    "\x7f",
    "\x1b[31m",
    "\x08",
    "=?utf-8?q?=0D=0ABcc:_x@evil?=",
    "=?utf-8?b?DQpCY2M6IHhAZXZpbA==?=",
    "=?iso-8859-1?q?x=0Ay?=",
    "=?utf-8?Q?=00?=",
    "=?utf-8?q?=E2=80=A8Bcc:_x@evil?=",
    "=?UTF-8?B?Cg==?=",
    "a =?utf-8?q?=0D=0A?= b",
]
TRICKY = [  # harmless once quoted: they must reach the reader as text, in one header
    "Bcc: x@evil",
    "x@evil, y@evil",
    "<x@evil>",
    '" <x@evil>, "',
    "=?utf-8?q?Hello?=",
    "=?bogus?x?zzz?=",
    "=?utf-8?q?=22x=22_<x@evil>?=",
    "%0d%0aBcc: x@evil",
    "\\r\\nBcc",
    "Ünïcödé 😀 李小龍",
    "\u200b\ufeff",
    "a\tb",
    "O'Brien; Smith: (x)",
    "a" * 70,
    ';,:<>@"\\',
]
BASES = ["Robin", "", "Dr. A. B.", "Zoë", "Member 7"]
WORST_NAMES = [  # found by hand: each added a header or an address before the fixes
    "=?utf-8?q?x=0D=0ABcc:_x@evil?=",
    "=?utf-8?b?eA0KQmNjOiB4QGV2aWw=?=",
    "=?utf-8?Q?=00?=Robin",
    "a" * 70 + 'Member 7"',
    "x" * 50 + '", evil@evil.example, "',
    "y" * 60 + ", evil@evil.example",
    '\\"' * 26,
]


def hostile(count: int, seed: int) -> list[tuple[str, bool]]:
    """``count`` (text, is_bad) pairs: a base with a bad or tricky piece before, inside or
    after it, sometimes two more. A text is bad when its bad piece survives ``strip()``."""
    rng = random.Random(seed)
    made: list[tuple[str, bool]] = []
    while len(made) < count:
        base = rng.choice(BASES)
        bad = rng.random() < 0.5
        piece = rng.choice(BAD if bad else TRICKY)
        cut = rng.randint(0, len(base))
        text = rng.choice([piece + base, base + piece, base[:cut] + piece + base[cut:]])
        if rng.random() < 0.2:
            text += rng.choice(TRICKY)
        made.append((text, bad and piece in text.strip()))  # strip() may take it away
    return made


def squeeze(text: str) -> str:
    """``text`` without whitespace: long headers are folded, and unfolding may not give
    back the very same spaces."""
    return re.sub(r"\s", "", text)


def assert_one_clean_mail(message: EmailMessage, address: str) -> None:
    names = list(message.keys())
    assert set(names) <= HEADERS and len(names) == len(set(names)), names
    assert message.get_content_type() == "multipart/alternative"
    assert "Why did I get this?" in text_body(message)
    to = message["To"]
    assert len(to.addresses) == 1 and to.addresses[0].addr_spec == address  # type: ignore[attr-defined]
    for name in names:
        assert not FORBIDDEN.search(str(message[name])), (name, str(message[name]))
    raw = dict(message.raw_items())  # as written on the wire, before any decoding
    if "List-Unsubscribe" in raw:
        assert raw_header(raw["List-Unsubscribe"]).startswith("<http://localhost/u/")


def raw_header(value: str) -> str:
    """A header value as a reader's mail program sees it: unfolded, not decoded."""
    return re.sub(r"\r?\n[ \t]", " ", value).strip()


def test_the_unsubscribe_headers_are_written_as_plain_urls(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    """RFC 2369 and RFC 8058 headers hold URLs in angle brackets: a mail program reads them as
    they are, so they must not be written as RFC 2047 encoded words, however long."""
    crowd = add_crowd(app, 2, clock(), names=["Robin", "Zoë Ünïcode " * 5])
    campaign()
    assert work() == {"sent": 2}
    for message in smtp.wait_for(2):
        raw = {name: raw_header(value) for name, value in message.raw_items()}
        assert "=?" not in raw["List-Unsubscribe"], raw["List-Unsubscribe"]
        web, mailto = raw["List-Unsubscribe"].split(", ")
        assert re.fullmatch(r"<http://localhost/u/[\w.-]+>", web), web
        assert re.fullmatch(
            r"<mailto:hello@pullfirst\.example\?subject=unsubscribe%20"
            r"[\w.-]+>",
            mailto,
        ), mailto
        assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert raw["List-Id"] == '"The weekly letter" <newsletter.localhost>'
        assert raw["Message-ID"].startswith("<delivery-")
        assert str(message["To"]).endswith(f"<{next(iter(message['To'].addresses)).addr_spec}>")
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in smtp.messages) == sorted(
        crowd.emails.values()
    )


@pytest.mark.slow
def test_hostile_display_names_cannot_add_headers_or_recipients(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    names = [name[:80] for name, _ in hostile(1_000 - len(WORST_NAMES), seed=7)]
    names += WORST_NAMES
    if is_postgres():  # PostgreSQL text cannot hold NUL at all, so no member can be named so
        names = [name.replace("\x00", "\x01") for name in names]
    crowd = add_crowd(app, len(names), clock(), names=names)
    campaign()
    assert work(batch=250)["sent"] == len(names)
    messages = smtp.wait_for(len(names))
    assert len(messages) == len(names)
    for (_, recipients), message in zip(smtp.envelopes, messages, strict=True):
        assert len(recipients) == 1 and "evil" not in recipients[0]
        assert_one_clean_mail(message, recipients[0])
    assert sorted(r for _, [r] in smtp.envelopes) == sorted(crowd.emails.values())
    plain = {
        crowd.emails[m]: name
        for m, name in zip(crowd.ids, names, strict=True)
        if name.isprintable()
        and len(name) <= 64
        and not any(trick in name for trick in ("=?", '"', "\\"))
    }
    assert len(plain) > 150
    for message in messages:
        address = message["To"].addresses[0]  # type: ignore[attr-defined]
        if address.addr_spec in plain:  # a harmless name reaches the reader as it was
            assert squeeze(address.display_name) == squeeze(plain[address.addr_spec])


@pytest.mark.slow
def test_hostile_subjects_are_refused_or_sent_as_one_clean_header(
    app: Flask, clock: Clock, smtp: SMTPSink
) -> None:
    from app.mail.transport import SMTPTransport
    from app.notify.campaigns import Draft, check_draft
    from app.notify.channels import Outgoing
    from app.notify.email import EmailChannel
    from app.notify.errors import CampaignError
    from app.notify.render import prepare

    accepted: list[str] = []
    refused = 0
    with app.app_context():
        for title, bad in hostile(1_000, seed=11):
            draft = Draft(title, "Hello.", "newsletter", "editorial", ("email",))
            if bad:
                with pytest.raises(CampaignError):
                    check_draft(draft)
                refused += 1
            elif title.strip():
                check_draft(draft)
                accepted.append(title.strip())
        channel = EmailChannel(SMTPTransport(smtp.url), app.config["MAIL_FROM"])
        try:
            for n, title in enumerate(accepted):
                channel.send(
                    Outgoing(
                        delivery_id=n + 1,
                        campaign_id=1,
                        kind="editorial",
                        scope="newsletter",
                        scope_title="The weekly letter",
                        promise="Once a week.",
                        member_id=1,
                        email=f"reader{n}@example.com",
                        display_name="Robin",
                        title=title,
                        body=prepare("<p>Hi</p>"),
                        unsubscribe_url="http://localhost/u/t",
                        why_url="http://localhost/why/w",
                        inbox_url="http://localhost/inbox/1",
                    )
                )
        finally:
            channel.close()
    assert refused > 300 and len(accepted) > 400
    messages = smtp.wait_for(len(accepted))
    assert len(messages) == len(accepted)
    for n, (title, message) in enumerate(zip(accepted, messages, strict=True)):
        assert smtp.envelopes[n][1] == [f"reader{n}@example.com"]
        assert_one_clean_mail(message, f"reader{n}@example.com")
        if "=?" not in title:
            assert squeeze(str(message["Subject"])) == squeeze(title)


def test_a_title_changed_behind_the_checks_is_dead_lettered_unsent(
    app: Flask, clock: Clock, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    """A title written straight into the database (a bad import, a hand-made fix) never
    reaches an SMTP server: building the mail refuses it and the delivery is not retried."""
    from sqlalchemy import update

    from app.extensions import db
    from app.notify.models import Campaign

    add_crowd(app, 3, clock())
    campaign_id = campaign()
    for title in ("Hi\r\nBcc: x@evil", "=?utf-8?q?Hi=0D=0ABcc:_x@evil?="):
        with app.app_context():
            db.session.execute(
                update(Campaign).where(Campaign.id == campaign_id).values(title=title)
            )
            db.session.commit()
        assert work() == {"dead": 3}
        assert smtp.messages == []
        rows = delivery_rows(app, campaign_id)
        assert {(row.state, row.reason) for row in rows} == {("dead", "refused")}
        assert all("refused to build the mail" in (row.last_error or "") for row in rows)
        with app.app_context():  # back in the queue for the second title
            from app.notify.models import Delivery

            db.session.execute(
                update(Delivery)
                .where(Delivery.campaign_id == campaign_id)
                .values(state="queued", reason=None, attempts=0)
            )
            db.session.commit()


@pytest.mark.slow
def test_workers_started_together_on_a_fresh_instance_all_start(
    app: Flask, app_config: dict[str, Any], tmp_path: Path
) -> None:
    """Workers beside each other on one host share its instance folder, and each reads the
    posts (for drafts) when it starts, which builds the missing search index."""
    env = worker_env(app_config, Path(app.instance_path))
    workers = [WorkerProcess(env, tmp_path / f"worker{n}.log", "--once") for n in range(4)]
    try:
        codes = [worker.process.wait(timeout=120) for worker in workers]
    finally:
        for worker in workers:
            worker.ensure_stopped()
    assert codes == [0, 0, 0, 0], "\n".join(worker.console() for worker in workers)
