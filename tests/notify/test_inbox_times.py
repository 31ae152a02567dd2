"""The inbox and its messages show when they were sent, and when the team answered, in the
member's own time zone, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from app.accounts import members
from tests.conftest import PASSWORD
from tests.helpers import sign_in

SENT = datetime(2026, 12, 4, 15, 5, 12, tzinfo=UTC)


def test_sent_and_answer_times_are_in_the_members_zone(app: Flask, member: Any) -> None:
    from app.extensions import db
    from app.notify.models import Campaign, Delivery, Reply

    with app.app_context():
        found = members.get_member(member.id)
        assert found is not None
        members.update_profile(found, found.display_name, "Asia/Tokyo")
        letter = Campaign(
            title="Letter one",
            body="Hello.",
            scope="newsletter",
            kind="editorial",
            channels="inbox",
            state="sent",
            created_at=SENT,
            updated_at=SENT,
        )
        db.session.add(letter)
        db.session.flush()
        delivery = Delivery(
            campaign_id=letter.id,
            member_id=member.id,
            channel="inbox",
            state="sent",
            due_at=SENT,
            created_at=SENT,
            sent_at=SENT,
            finished_at=SENT,
        )
        db.session.add(delivery)
        db.session.flush()
        db.session.add(
            Reply(
                campaign_id=letter.id,
                member_id=member.id,
                delivery_id=delivery.id,
                author="marketer",
                body="Thanks!",
                at=SENT + timedelta(hours=1),
            )
        )
        db.session.commit()
        delivery_id = delivery.id
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)

    inbox = client.get("/inbox").text
    assert 'datetime="2026-12-04T15:05:12+00:00">5 December 2026, 00:05 JST</time>' in inbox
    message = client.get(f"/inbox/{delivery_id}").text
    assert (
        'Sent <time datetime="2026-12-04T15:05:12+00:00">5 December 2026, 00:05 JST'
        "</time>" in message
    )
    assert "5 December 2026, 01:05 JST" in message  # the team's answer
