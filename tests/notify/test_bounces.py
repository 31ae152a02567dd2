"""Bounces and complaints: campaign mail goes out with its own VERP envelope sender, and the
delivery status notifications and feedback reports that come back — over SMTP or LMTP to the
listener, or through a Maildir — suppress the address, record the reason on the delivery and
count soft bounces, once per report, while forged, unknown and unreadable mail changes nothing."""

from __future__ import annotations

import re
import shutil
import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.helpers import SMTPSink, free_port
from tests.notify import returned_mail
from tests.notify.conftest import Audience

VERP = re.compile(r"bounces\+([0-9]+)\.([0-9a-f]{10})@([a-z0-9.-]+)")


@dataclass(frozen=True)
class Sent:
    """One campaign mail as the SMTP server received it."""

    delivery_id: int
    address: str
    envelope: str
    mail: EmailMessage


def send_campaign(
    audience_ids: list[int],
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    **options: Any,
) -> list[Sent]:
    already = len(smtp.messages)
    campaign(**options)
    assert work()["sent"] == len(audience_ids)
    messages = smtp.wait_for(already + len(audience_ids))[already:]
    envelopes = smtp.envelopes[already:]
    return [
        Sent(int(str(mail["X-Pullfirst-Delivery"])), recipients[0], mail_from, mail)
        for mail, (mail_from, recipients) in zip(messages, envelopes, strict=True)
    ]


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def bounce_over_smtp(port: int, envelope: str, raw: bytes, *, lmtp: bool = False) -> None:
    """Send ``raw`` as a mail server returns a bounce: from the null sender, to ``envelope``."""
    client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
    with client:
        client.sendmail("", [envelope], crlf(raw))


def delivery(app: Flask, delivery_id: int) -> Any:
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        row = db.session.get(Delivery, delivery_id)
        assert row is not None
        db.session.expunge(row)
        return row


def suppression(app: Flask, address: str) -> tuple[str, datetime] | None:
    from app.consent.models import Suppression
    from app.extensions import db

    with app.app_context():
        row = db.session.execute(
            select(Suppression.reason, Suppression.at).where(
                Suppression.address_key == address.lower()
            )
        ).first()
        return (row[0], row[1]) if row else None


def bounce_rows(app: Flask) -> int:
    from app.extensions import db
    from app.notify.models import Bounce

    with app.app_context():
        return int(db.session.scalar(select(func.count(Bounce.id))) or 0)


@pytest.fixture
def listener(app: Flask) -> Iterator[Any]:
    from app.notify.bounces.listener import BounceListener

    server = BounceListener(app, "127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    folder = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True)
    return folder


def deliver(maildir: Path, name: str, raw: bytes) -> Path:
    path = maildir / "new" / f"1772791203.{name}.mail.example.org"
    path.write_bytes(raw)
    return path


# --- the envelope sender ---------------------------------------------------------------------


def test_campaign_mail_goes_out_with_its_own_verp_envelope_sender(
    app: Flask, audience: Audience, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    from app.notify.bounces.verp import bounce_key, genuine, read_verp

    sent = send_campaign(audience.add(2), campaign, work, smtp)
    envelopes = [s.envelope for s in sent]
    assert len(set(envelopes)) == 2
    for one in sent:
        match = VERP.fullmatch(one.envelope)
        assert match, one.envelope
        assert int(match.group(1)) == one.delivery_id and match.group(3) == "pullfirst.example"
        assert str(one.mail["From"]) == "Pullfirst <hello@pullfirst.example>"
        with app.app_context():
            verp = read_verp(one.envelope)
            assert verp is not None and genuine(verp, bounce_key())


def test_the_bounce_domain_setting_and_the_mail_folder_keep_the_envelope_sender(
    app: Flask, audience: Audience, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    app.config["MAIL_URL"] = ""  # the development mail folder
    app.config["NOTIFY_BOUNCE_DOMAIN"] = "bounces.example.org"
    audience.add(1)
    campaign()
    assert work()["sent"] == 1
    files = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(files) == 1 and smtp.messages == []
    first_line = files[0].read_bytes().split(b"\n", 1)[0].decode().strip()
    match = re.fullmatch(r"Return-Path: <(.+)>", first_line)
    assert match and VERP.fullmatch(match.group(1))
    assert match.group(1).endswith("@bounces.example.org")


# --- bounces over SMTP and LMTP --------------------------------------------------------------


def test_a_gmail_style_bounce_suppresses_the_address_and_names_the_reason(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    clock: Clock,
) -> None:
    from app.notify.privacy import export_messages

    gone, other = send_campaign(audience.add(2), campaign, work, smtp)
    clock.advance(hours=1)
    bounce_over_smtp(
        listener.port,
        gone.envelope,
        returned_mail.gmail_style(gone.mail, gone.address, gone.envelope),
    )
    assert listener.totals == {"hard": 1}
    row = delivery(app, gone.delivery_id)
    assert row.bounce == "5.1.1 user unknown" and row.bounced_at == clock()
    assert suppression(app, gone.address) == ("hard-bounce", clock())
    assert suppression(app, other.address) is None
    assert delivery(app, other.delivery_id).bounce is None
    with app.app_context():
        exported = export_messages(row.member_id)["deliveries"][0]
    assert exported["bounce"] == "5.1.1 user unknown"


def test_an_outlook_style_bounce_over_lmtp_with_only_the_original_headers(
    app: Flask, audience: Audience, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    from app.notify.bounces.listener import BounceListener

    server = BounceListener(app, "127.0.0.1", free_port(), lmtp=True)
    server.start()
    try:
        (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
        bounce_over_smtp(
            server.port,
            sent.envelope,
            returned_mail.outlook_style(sent.mail, sent.address, sent.envelope),
            lmtp=True,
        )
    finally:
        server.stop()
    assert server.totals == {"hard": 1}
    assert delivery(app, sent.delivery_id).bounce == "5.1.10 address accepts no mail"
    assert suppression(app, sent.address) is not None


def test_the_rfc_3464_example_is_a_soft_bounce_that_suppresses_nothing(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    bounce_over_smtp(
        listener.port,
        sent.envelope,
        returned_mail.rfc3464_example(sent.mail, sent.address, sent.envelope),
    )
    assert listener.totals == {"soft": 1}
    assert delivery(app, sent.delivery_id).bounce == "4.0.0 temporary failure"
    assert suppression(app, sent.address) is None


def test_the_same_bounce_twice_changes_nothing_the_second_time(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    clock: Clock,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    raw = returned_mail.gmail_style(sent.mail, sent.address, sent.envelope)
    bounce_over_smtp(listener.port, sent.envelope, raw)
    first = suppression(app, sent.address), delivery(app, sent.delivery_id).bounced_at
    clock.advance(hours=2)
    bounce_over_smtp(listener.port, sent.envelope, raw)
    assert listener.totals == {"hard": 1, "repeat": 1}
    assert (suppression(app, sent.address), delivery(app, sent.delivery_id).bounced_at) == first
    assert bounce_rows(app) == 1


def test_a_forged_or_altered_tag_is_ignored_and_counted(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
) -> None:
    from app.notify.bounces.verp import bounce_key, verp_address

    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    last = sent.envelope.index("@") - 1
    altered = (
        sent.envelope[:last]
        + ("0" if sent.envelope[last] != "0" else "1")
        + sent.envelope[last + 1 :]
    )
    made_up = f"bounces+{sent.delivery_id}.0123456789@pullfirst.example"
    for envelope in (altered, made_up):
        bounce_over_smtp(
            listener.port, envelope, returned_mail.gmail_style(sent.mail, sent.address, envelope)
        )
    # A genuine tag for a delivery that does not exist is not ours to act on either.
    with app.app_context():
        nowhere = verp_address(sent.delivery_id + 1000, "pullfirst.example", bounce_key())
    bounce_over_smtp(
        listener.port, nowhere, returned_mail.gmail_style(sent.mail, sent.address, nowhere)
    )
    assert listener.totals == {"forged": 2, "unidentified": 1}
    assert suppression(app, sent.address) is None
    assert delivery(app, sent.delivery_id).bounce is None and bounce_rows(app) == 0


def test_mail_for_anyone_else_is_refused(app: Flask, listener: Any) -> None:
    from app.notify.bounces.verp import bounce_key, verp_address

    with app.app_context():
        ours = verp_address(1, "pullfirst.example", bounce_key())
    for stranger in (
        "hello@pullfirst.example",
        "bounces@pullfirst.example",
        ours.replace("@pullfirst.example", "@elsewhere.example"),
    ):
        with (
            smtplib.SMTP("127.0.0.1", listener.port) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
        ):
            client.sendmail("", [stranger], b"Subject: hi\r\n\r\nhello\r\n")
        assert refused.value.recipients[stranger][0] == 550
    with smtplib.SMTP("127.0.0.1", listener.port) as client:
        second = ours.replace("bounces+1.", "bounces+2.")
        refused_later = client.sendmail("", [ours, second], b"Subject: hi\r\n\r\nhello\r\n")
    assert refused_later[second][0] == 452  # one recipient per message: sent again later
    assert listener.totals["refused"] == 3 and listener.totals["ignored"] == 1


def test_garbage_is_kept_and_counted_and_the_listener_goes_on(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    nested: Any = MIMEText("deep")
    for _ in range(40):
        outer = MIMEMultipart("mixed")
        outer.attach(nested)
        nested = outer
    no_status = MIMEMultipart("report", report_type="delivery-status")
    no_status["From"] = "MAILER-DAEMON@mail.example.org"
    no_status.attach(MIMEText("Your message could not be delivered."))
    garbage = (b"\x00\x01\xff\xfe<<>>--\r\n" * 300, nested.as_bytes(), no_status.as_bytes())
    for raw in garbage:
        bounce_over_smtp(listener.port, sent.envelope, raw)
    with (
        smtplib.SMTP("127.0.0.1", listener.port) as client,
        pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as too_big,
    ):
        client.sendmail("", [sent.envelope], b"Subject: big\r\n\r\n" + b"x" * 998 * 1100)
    assert too_big.value.smtp_code == 552
    assert listener.totals == {"rejected": 3}
    bounce_over_smtp(
        listener.port,
        sent.envelope,
        returned_mail.gmail_style(sent.mail, sent.address, sent.envelope),
    )
    assert listener.totals == {"rejected": 3, "hard": 1}


def test_auto_replies_and_good_news_are_not_bounces(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    for raw in (
        returned_mail.out_of_office(sent.envelope),
        returned_mail.plain_dsn(sent.address, sent.envelope, action="delivered", status="2.0.0"),
        returned_mail.rfc5965_example(
            sent.mail, sent.address, sent.envelope, feedback_type="not-spam"
        ),
    ):
        bounce_over_smtp(listener.port, sent.envelope, raw)
    assert listener.totals == {"ignored": 3}
    assert suppression(app, sent.address) is None and bounce_rows(app) == 0


# --- complaints ------------------------------------------------------------------------------


@pytest.mark.usefixtures("plain_cadence")
def test_complaints_suppress_the_address_and_the_next_campaign_leaves_it_out(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    maildir: Path,
    runner: FlaskCliRunner,
    clock: Clock,
) -> None:
    from app.notify.models import Delivery

    members = audience.add(3)
    by_rfc, by_loop, reader = send_campaign(members, campaign, work, smtp)
    # RFC 5965's example, sent back to the envelope sender it names.
    bounce_over_smtp(
        listener.port,
        by_rfc.envelope,
        returned_mail.rfc5965_example(by_rfc.mail, by_rfc.address, by_rfc.envelope),
    )
    # A feedback loop writes to the address registered with it; the mail server puts that
    # mailbox in a Maildir.
    deliver(
        maildir,
        "fbl",
        returned_mail.in_maildir(
            returned_mail.feedback_loop(by_loop.mail, by_loop.envelope),
            "fbl@pullfirst.example",
            null_sender=False,
        ),
    )
    result = runner.invoke(args=["notify", "bounces", "--maildir", str(maildir)])
    assert result.exit_code == 0, result.output
    assert "bounces: 1 complaint" in result.output
    assert listener.totals == {"complaint": 1}
    for sent in (by_rfc, by_loop):
        assert delivery(app, sent.delivery_id).bounce == "complaint: abuse"
        assert suppression(app, sent.address) == ("complaint", clock())
    assert suppression(app, reader.address) is None
    clock.advance(days=7, minutes=5)
    second = send_campaign([members[2]], campaign, work, smtp, title="The next letter")
    assert [s.address for s in second] == [reader.address]
    from app.extensions import db

    with app.app_context():
        reached = set(
            db.session.scalars(
                select(Delivery.member_id).where(
                    Delivery.campaign_id == delivery(app, second[0].delivery_id).campaign_id
                )
            )
        )
    assert reached == {members[2]}


def test_a_complaint_after_a_bounce_replaces_its_reason(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    clock: Clock,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    bounce_over_smtp(
        listener.port, sent.envelope, returned_mail.delayed(sent.mail, sent.address, sent.envelope)
    )
    clock.advance(hours=3)
    bounce_over_smtp(
        listener.port,
        sent.envelope,
        returned_mail.rfc5965_example(sent.mail, sent.address, sent.envelope),
    )
    clock.advance(hours=3)
    bounce_over_smtp(
        listener.port,
        sent.envelope,
        returned_mail.rfc3464_example(sent.mail, sent.address, sent.envelope),
    )
    row = delivery(app, sent.delivery_id)
    assert row.bounce == "complaint: abuse" and row.bounced_at == clock() - timedelta(hours=3)
    assert suppression(app, sent.address) == ("complaint", clock() - timedelta(hours=3))
    assert listener.totals == {"soft": 1, "complaint": 1, "repeat": 1}


# --- soft bounces ----------------------------------------------------------------------------


@pytest.mark.usefixtures("plain_cadence")
def test_soft_bounces_of_different_messages_suppress_at_the_limit(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    clock: Clock,
) -> None:
    member = audience.add(1)
    for week in range(3):
        if week:
            clock.advance(days=7, minutes=5)
        (sent,) = send_campaign(member, campaign, work, smtp, title=f"Letter {week}")
        raw = returned_mail.delayed(sent.mail, sent.address, sent.envelope)
        bounce_over_smtp(listener.port, sent.envelope, raw)
        bounce_over_smtp(listener.port, sent.envelope, raw)  # the same notice again
        assert delivery(app, sent.delivery_id).bounce == "4.2.2 mailbox full"
        expected = ("soft-bounces", clock()) if week == 2 else None
        assert suppression(app, sent.address) == expected, week
    assert listener.totals == {"soft": 3, "repeat": 3}


@pytest.mark.usefixtures("plain_cadence")
def test_soft_bounces_older_than_thirty_days_do_not_count(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    listener: Any,
    clock: Clock,
) -> None:
    app.config["NOTIFY_SOFT_BOUNCE_LIMIT"] = 2
    member = audience.add(1)
    found = []
    for gap in (0, 35, 7):
        clock.advance(days=gap, minutes=5 if gap else 0)
        (sent,) = send_campaign(member, campaign, work, smtp, title=f"After {gap} days")
        bounce_over_smtp(
            listener.port,
            sent.envelope,
            returned_mail.delayed(
                sent.mail,
                sent.address,
                sent.envelope,
                status="4.4.7",
                diagnostic="smtp; 451 4.4.7 delivery time expired",
            ),
        )
        found.append(suppression(app, sent.address))
    assert found[:2] == [None, None]
    assert found[2] is not None and found[2][0] == "soft-bounces"


# --- the Maildir -----------------------------------------------------------------------------


def test_a_yahoo_style_plain_text_bounce_from_a_maildir_once(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    maildir: Path,
    runner: FlaskCliRunner,
) -> None:
    (sent,) = send_campaign(audience.add(1), campaign, work, smtp)
    raw = returned_mail.in_maildir(
        returned_mail.yahoo_style(sent.mail, sent.address, sent.envelope), sent.envelope
    )
    path = deliver(maildir, "yahoo", raw)
    kept = maildir.parent / "kept.eml"
    shutil.copyfile(path, kept)
    result = runner.invoke(args=["notify", "bounces", "--maildir", str(maildir)])
    assert result.exit_code == 0, result.output
    assert "bounces: 1 hard" in result.output
    assert list((maildir / "new").iterdir()) == []
    assert [p.name for p in (maildir / "cur").iterdir()] == [path.name + ":2,S"]
    assert delivery(app, sent.delivery_id).bounce == "5.0.0 permanent failure"
    assert suppression(app, sent.address) is not None
    again = runner.invoke(args=["notify", "bounces", "--maildir", str(maildir)])
    assert "bounces: nothing" in again.output
    shutil.copyfile(kept, maildir / "new" / "copy.mail.example.org")  # delivered twice
    twice = runner.invoke(args=["notify", "bounces", "--maildir", str(maildir)])
    assert "bounces: 1 repeat" in twice.output and bounce_rows(app) == 1


def test_without_a_verp_address_the_message_id_must_name_the_members_address(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    maildir: Path,
) -> None:
    from app.notify.bounces.maildir import take_maildir

    first, second, third = send_campaign(audience.add(3), campaign, work, smtp)
    plain = "bounces@pullfirst.example"
    reports = {
        "named": returned_mail.plain_dsn(
            first.address,
            plain,
            action="failed",
            status="5.1.1",
            message_id=str(first.mail["Message-ID"]),
        ),
        "someone-else": returned_mail.plain_dsn(
            "someone.else@example.net",
            plain,
            action="failed",
            status="5.1.1",
            message_id=str(second.mail["Message-ID"]),
        ),
        "other-domain": returned_mail.plain_dsn(
            third.address,
            plain,
            action="failed",
            status="5.1.1",
            message_id=f"<delivery-{third.delivery_id}@elsewhere.example>",
        ),
    }
    for name, raw in reports.items():
        deliver(maildir, name, returned_mail.in_maildir(raw, plain))
    with app.app_context():
        totals = take_maildir(maildir)
    assert totals == {"hard": 1, "unidentified": 2}
    assert suppression(app, first.address) is not None
    assert suppression(app, second.address) is None and suppression(app, third.address) is None


def test_unreadable_files_are_flagged_in_the_maildir_and_counted(app: Flask, maildir: Path) -> None:
    from app.notify.bounces.maildir import take_maildir

    deliver(maildir, "empty", b"")
    deliver(maildir, "binary", bytes(range(256)) * 40)
    (maildir / "new" / "huge.mail.example.org").write_bytes(b"Subject: x\n\n" + b"y" * 1_100_000)
    with app.app_context():
        assert take_maildir(maildir) == {"rejected": 3}
    flagged = sorted(p.name for p in (maildir / "cur").iterdir())
    assert flagged and all(name.endswith(":2,F") for name in flagged) and len(flagged) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "give either --listen"),
        (["--listen", "127.0.0.1:2525", "--maildir", "x"], "give either --listen"),
        (["--listen", "nowhere"], "HOST:PORT"),
        (["--maildir", "x", "--lmtp"], "--lmtp goes with --listen"),
    ],
)
def test_the_command_says_what_it_needs(
    runner: FlaskCliRunner, options: list[str], message: str
) -> None:
    result = runner.invoke(args=["notify", "bounces", *options])
    assert result.exit_code == 2 and message in result.output


def test_a_folder_that_is_not_a_maildir_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["notify", "bounces", "--maildir", str(tmp_path)])
    assert result.exit_code == 1 and "is not a Maildir" in result.output


# --- reading reports (plain values) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "kind", "summary"),
    [
        ("failed", "5.1.1", "hard", "5.1.1 user unknown"),
        ("failed", "5.2.1", "hard", "5.2.1 mailbox disabled"),
        ("failed", "5.0.0", "hard", "5.0.0 permanent failure"),
        ("failed", "5.2.2", "soft", "5.2.2 mailbox full"),
        ("failed", "5.7.1", "soft", "5.7.1 delivery not authorized"),  # a filter, not the mailbox
        ("failed", "4.4.7", "soft", "4.4.7 delivery time expired"),
        ("delayed", "4.2.2", "soft", "4.2.2 mailbox full"),
        ("delivered", "2.0.0", None, None),
        ("relayed", "2.0.0", None, None),
    ],
)
def test_what_each_status_means(
    action: str, status: str, kind: str | None, summary: str | None
) -> None:
    from app.notify.bounces.reports import read_report

    report = read_report(
        returned_mail.plain_dsn("a@example.com", "b@example.org", action=action, status=status)
    )
    assert (report.kind if report else None, report.summary if report else None) == (kind, summary)


def test_the_reader_refuses_what_is_not_mail_and_keeps_to_its_limits() -> None:
    from app.notify.bounces.reports import MAX_BYTES, Unreadable, read_report

    many = MIMEMultipart("mixed")
    for n in range(100):
        many.attach(MIMEText(f"part {n}"))
    for raw in (b"", b"   \r\n", b"\xff\xfe\x00" * 10, b"x" * (MAX_BYTES + 1), many.as_bytes()):
        with pytest.raises(Unreadable):
            read_report(raw)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("bounces+12.abcdef0123@pullfirst.example", (12, "abcdef0123", "pullfirst.example")),
        ("<BOUNCES+12.ABCDEF0123@Pullfirst.Example>", (12, "abcdef0123", "pullfirst.example")),
        ("Mail <bounces+7.0000000000@b.example>", (7, "0000000000", "b.example")),
        ("bounces@pullfirst.example", None),
        ("bounces+12@pullfirst.example", None),
        ("bounces+x.abcdef0123@pullfirst.example", None),
        ("bounces+12.abcdef0123@pullfirst.example extra", None),
    ],
)
def test_reading_verp_addresses(address: str, expected: tuple[int, str, str] | None) -> None:
    from app.notify.bounces.verp import read_verp

    verp = read_verp(address)
    assert (None if verp is None else (verp.delivery_id, verp.tag, verp.domain)) == expected
