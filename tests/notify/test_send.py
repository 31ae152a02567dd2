"""Sending: the outbox is filled from the gate, the worker delivers by email with the RFC 8058
headers and the footer, and the gate is run again at send time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.helpers import SMTPSink, text_body
from tests.notify.conftest import Audience


def deliveries(app: Flask, **where: object) -> list:
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        query = select(Delivery).filter_by(**where).order_by(Delivery.id)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_email_reaches_the_audience_once_with_unsubscribe_headers(
    app: Flask, audience: Audience, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> None:
    members = audience.add(3)
    campaign_id = campaign()
    done = work()
    assert done["sent"] == 3
    messages = smtp.wait_for(3)
    assert len({m["Message-ID"] for m in messages}) == 3
    mail = messages[0]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(mail["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://localhost/u/") and "<mailto:" in unsubscribe
    assert str(mail["List-Id"]).endswith("<newsletter.localhost>")
    assert mail.get_content_type() == "multipart/alternative"
    text = text_body(mail)
    assert "Why did I get this? http://localhost/why/" in text
    assert "12 Harbour Lane, Bristol" in text and "At most one message a week, on Fridays" in text
    assert "http://localhost/t/" in text  # links are tracked
    html = mail.get_body(("html",)).get_content()
    assert 'href="http://localhost/t/' in html and "Unsubscribe</a>" in html
    rows = deliveries(app, campaign_id=campaign_id)
    assert {r.member_id for r in rows} == set(members)
    assert all(
        r.state == "sent" and r.message_id == f"<delivery-{r.id}@pullfirst.example>" for r in rows
    )
    # The contact history knows, so the gate's weekly cap now holds the next campaign back.
    assert work()["sent"] == 0
    second = campaign(title="Another one")
    assert deliveries(app, campaign_id=second) == []


def test_sending_twice_adds_nothing(
    app: Flask, audience: Audience, campaign: Callable[..., int], clock: Clock
) -> None:
    from app.consent.scopes import find_scope
    from app.extensions import db
    from app.notify import outbox
    from app.notify.campaigns import get_campaign

    audience.add(4)
    campaign_id = campaign(channels=("email", "inbox"))
    with app.app_context():
        again = get_campaign(campaign_id)
        assert again is not None
        outbox.fill_outbox(again, find_scope("newsletter"), clock())
        db.session.commit()
    assert len(deliveries(app, campaign_id=campaign_id)) == 8


def test_a_revoke_after_enqueueing_suppresses_the_delivery(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    from app.consent.ledger import consents
    from app.extensions import db

    kept, revoked, paused = audience.add(3)
    campaign_id = campaign()
    with app.app_context():
        consents.revoke_consent(
            revoked,
            "newsletter",
            "email",
            consents.Origin("preferences"),
            clock(),
            wording="Stop The weekly letter by email",
        )
        db.session.commit()
    rows = {r.member_id: r for r in deliveries(app, campaign_id=campaign_id)}
    assert rows[revoked].state == "suppressed" and rows[revoked].reason == "consented"
    # A pause of everything is seen by the gate when the worker runs.
    from app.consent.ledger.preferences import pause_everything

    with app.app_context():
        pause_everything(paused, 3, clock())
        db.session.commit()
    done = work()
    assert done == {"sent": 1, "suppressed": 1}
    assert [str(m["To"]) for m in smtp.messages] == [str(smtp.messages[0]["To"])]
    rows = {r.member_id: r for r in deliveries(app, campaign_id=campaign_id)}
    assert rows[kept].state == "sent"
    assert rows[paused].state == "suppressed" and rows[paused].reason == "paused"


def test_the_gate_runs_again_for_leased_deliveries(
    app: Flask, audience: Audience, campaign: Callable[..., int], smtp: SMTPSink, clock: Clock
) -> None:
    """A revoke that commits after a worker claimed the batch is still honoured."""
    from app.consent.ledger import consents
    from app.extensions import db
    from app.notify.worker import Worker

    _first, second = audience.add(2)
    campaign()
    with app.app_context():
        worker = Worker(name="w1")
        from app.notify import outbox

        claimed = outbox.claim(worker.name, 10, clock(), worker.lease)
        assert len(claimed) == 2
        consents.revoke_consent(
            second,
            "newsletter",
            "email",
            consents.Origin("preferences"),
            clock(),
            wording="Stop The weekly letter by email",
        )
        db.session.commit()
        # the claimed rows were leased, so the revoke could not hold them back itself
        from app.notify.models import Delivery

        rows = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
        db.session.commit()
        email = _email(app)
        try:
            outcomes = [worker._deliver(row.id, {"email": email}) for row in rows]
        finally:
            email.close()
    assert sorted(outcomes) == ["sent", "suppressed"]
    assert len(smtp.wait_for(1)) == 1


def _email(app: Flask):
    from app.mail.transport import transport_for
    from app.notify.email import EmailChannel

    return EmailChannel(
        transport_for(app.config["MAIL_URL"], app.instance_path), app.config["MAIL_FROM"]
    )


def test_quiet_hours_defer_the_delivery(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    from app.extensions import db
    from tests.consent import world

    [member] = audience.add(1)
    minute = clock().hour * 60 + clock().minute
    with app.app_context():
        world.preferences(member, clock(), quiet=((minute - 60) % 1440, (minute + 60) % 1440))
        db.session.commit()
    campaign_id = campaign()
    assert work() == {"deferred": 1}
    [row] = deliveries(app, campaign_id=campaign_id)
    assert row.state == "queued" and row.attempts == 0
    assert row.due_at > clock() + timedelta(minutes=59)
    clock.advance(minutes=61)
    assert work()["sent"] == 1
    assert len(smtp.wait_for(1)) == 1


def test_cancel_before_the_worker_runs(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    from app.extensions import db
    from app.notify.campaigns import cancel, get_campaign
    from app.notify.models import Delivery

    audience.add(5)
    campaign_id = campaign()
    with app.app_context():
        found = get_campaign(campaign_id)
        assert found is not None
        assert cancel(found, clock()) == 5
        db.session.commit()
        assert (
            db.session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state == "cancelled")
            )
            == 5
        )
    assert sum(work().values()) == 0
    assert smtp.messages == []
