"""The promise audit of ``bench/learning.py`` finds what breaks a scope's promise: without
this, its "0 violations" could come from an audit that looks at nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from bench._learning_audit import audit_promises
from bench._learning_world import Reader, add_readers

FRIDAY = datetime(2027, 1, 8, 10, tzinfo=UTC)  # 10:00 in London, inside Fri 08:00-18:00


def test_the_audit_flags_each_broken_promise_and_passes_a_kept_one(app: Flask) -> None:
    from app.consent.ledger.consents import Origin, revoke_consent
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign
    from app.notify.models import Delivery

    reader = Reader(
        index=0,
        email="reader0@bench.example",
        time_zone="Europe/London",
        quiet=(22 * 60, 7 * 60),
        topics=frozenset({"Cooking"}),
        active_start=8,
        per_week=1,
        tolerance=3,
        answers_survey=True,
        reads_per_week=1.0,
    )
    with app.app_context():
        member = add_readers([reader], FRIDAY - timedelta(days=7))[0]

        def sent(scope: str, at: datetime) -> int:
            draft = Draft(f"To {scope}", "Hello.", scope, "editorial", ("email",))
            campaign = create_campaign(draft, None, at)
            delivery = Delivery(
                campaign_id=campaign.id,
                member_id=member,
                channel="email",
                state="sent",
                due_at=at,
                created_at=at,
                sent_at=at,
            )
            db.session.add(delivery)
            db.session.flush()
            return delivery.id

        kept = sent("newsletter", FRIDAY)
        sunday = sent("newsletter", FRIDAY + timedelta(days=2))  # a second letter that week
        night = sent("offers", FRIDAY + timedelta(hours=13))  # 23:00 in London
        db.session.commit()
        clean = audit_promises([kept])
        assert clean.checked == 3
        revoke_consent(
            member,
            "offers",
            "email",
            Origin("preferences"),
            FRIDAY + timedelta(days=7),
            wording="Stop",
        )
        unconsented = sent("offers", FRIDAY + timedelta(days=8))  # a Saturday: offers any day
        db.session.commit()
        audit = audit_promises([kept, sunday, night, unconsented, 999])

    assert dict(audit.violations) == {
        "over max_per_week": 1,
        "not on the scope's days": 1,
        "outside the send window": 1,
        "in quiet hours": 1,
        "no consent in force": 1,
        "mailed but not recorded as sent": 1,
    }
    assert not any(f"delivery {kept} " in example for example in audit.examples)
