"""The learned cadence through the real worker and SMTP: a member who leaves the letter
unopened rests a slot, then is paused and asked once whether they still want it; following
the question's link brings the letter back; a member with a usual hour gets it then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Clock
from tests.helpers import SMTPSink, text_body
from tests.notify.conftest import Audience
from tests.notify.rows import delivery_rows


def _ignored(app: Flask, member_id: int, clock: Clock, weeks: tuple[int, ...]) -> None:
    from app.consent.gate import contacts
    from app.extensions import db

    with app.app_context():
        for week in weeks:
            contacts.record_contact(
                member_id,
                "newsletter",
                "email",
                campaign=f"old-{week}",
                kind="editorial",
                ref=f"old-{week}",
                sent_at=clock() - timedelta(weeks=week),
            )
        db.session.commit()


def test_one_unopened_letter_skips_a_week_and_opening_brings_the_promise_back(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    [member] = audience.add(1, channels=("email",))
    _ignored(app, member, clock, (1,))
    resting = campaign(title="This week")
    assert [(r.state, r.reason) for r in delivery_rows(app, resting)] == []  # not in the audience
    with app.app_context():
        from app.notify.campaigns import audience_counts, get_campaign

        found = get_campaign(resting)
        assert found is not None
        assert audience_counts(found)["email"]["excluded"] == {"resting": 1}
    from app.consent.gate import contacts
    from app.extensions import db

    with app.app_context():
        contacts.record_engagement("old-1", clock(), "click")
        db.session.commit()
    back = campaign(title="Next week")
    assert work()["sent"] == 1
    assert smtp.wait_for(1)[0]["Subject"] == "Next week"
    assert [r.state for r in delivery_rows(app, back)] == ["sent"]


def test_after_a_pause_by_silence_one_question_goes_in_place_of_the_next_letter(
    app: Flask,
    client: FlaskClient,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    [member] = audience.add(1, channels=("email", "inbox"))
    _ignored(app, member, clock, (8, 6, 4, 2))  # four unopened: paused
    first = campaign(title="The letter", channels=("email", "inbox"))
    assert [r.state for r in delivery_rows(app, first)] == ["queued", "queued"]
    work()
    rows = delivery_rows(app, first)
    # The first delivery (email) asks; the other is held back by the pause.
    assert [(r.channel, r.state, r.reason) for r in rows] == [
        ("email", "sent", "asked"),
        ("inbox", "suppressed", "paused"),
    ]
    asked = rows[0]
    [mail] = smtp.wait_for(1)
    assert mail["Subject"] == "Still want The weekly letter?"
    text = text_body(mail)
    assert "You have not opened the last 4 messages about The weekly letter" in text
    assert "This is the only time we ask" in text
    assert "http://localhost/t/" in text  # its link is tracked: following it is engagement
    # The question is asked once: the next letter, a week later, goes nowhere.
    clock.advance(days=7)
    second = campaign(title="The next letter", channels=("email", "inbox"))
    assert delivery_rows(app, second) == []
    with app.app_context():
        from app.consent.gate.explain import explain
        from app.consent.gate.facts import facts_for
        from app.consent.gate.rules import Campaign
        from app.consent.scopes import get_scope

        decision, checks = explain(
            facts_for(member, clock()),
            Campaign.of(get_scope("newsletter")),
            member,
            "email",
            clock(),
        )
        assert decision.reasons == ("paused",)
        paused = next(c for c in checks if c.code == "paused")
        assert "and was asked whether they still want it on" in paused.fact
    # Following the question's link is engagement: the letter comes back at once.
    from app.consent.gate import contacts
    from app.extensions import db

    with app.app_context():
        assert contacts.record_engagement(f"delivery-{asked.id}", clock(), "click")
        db.session.commit()
    third = campaign(title="Welcome back", channels=("email",))
    work()
    assert [r.state for r in delivery_rows(app, third)] == ["sent"]


def test_the_inbox_shows_the_question_under_its_own_title(
    app: Flask,
    client: FlaskClient,
    member: Any,
    campaign: Callable[..., int],
    work: Callable,
    clock: Clock,
) -> None:
    from app.extensions import db
    from tests.conftest import PASSWORD
    from tests.consent import world
    from tests.helpers import sign_in

    with app.app_context():
        at = clock() - timedelta(weeks=10)
        world.consent(member.id, "newsletter", "inbox", granted=True, version=1, at=at)
        db.session.commit()
    _ignored(app, member.id, clock, (8, 6, 4, 2))
    first = campaign(title="The letter", channels=("inbox",))
    work()
    [row] = delivery_rows(app, first)
    assert (row.state, row.reason) == ("sent", "asked")
    sign_in(client, "reader@example.com", PASSWORD)
    inbox = client.get("/inbox").text
    assert "Still want The weekly letter?" in inbox and "The letter</strong>" not in inbox
    page = client.get(f"/inbox/{row.id}").text
    assert "Still want The weekly letter?" in page
    assert "This is the only time we ask" in page


def test_a_member_with_a_usual_hour_gets_the_letter_then(
    app: Flask,
    audience: Audience,
    campaign: Callable[..., int],
    work: Callable,
    smtp: SMTPSink,
    clock: Clock,
) -> None:
    from app.engage.actions import record_action
    from app.extensions import db
    from app.notify.models import Delivery

    [member] = audience.add(1, channels=("email",))
    with app.app_context():
        for day in range(1, 5):  # reads the site at 16:xx UTC
            record_action(
                member, f"read:post-{day}", clock().replace(hour=16) - timedelta(days=day)
            )
        db.session.commit()
    letter = campaign(title="At your hour")
    assert work()["deferred"] == 1
    [row] = delivery_rows(app, letter)
    assert row.state == "queued"
    assert row.due_at == clock().replace(hour=16, minute=0, second=0, microsecond=0)
    clock.set(row.due_at)
    assert work()["sent"] == 1
    assert smtp.wait_for(1)[0]["Subject"] == "At your hour"
    with app.app_context():
        sent = db.session.get_one(Delivery, row.id)
        assert sent.sent_at == row.due_at
