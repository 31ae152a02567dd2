"""The outbox in tests: sending a campaign and running the worker once, the deliveries of a
campaign, counts per state, messages grouped by Message-ID, and the retry policy's documented
bounds."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import Flask
from sqlalchemy import func, select

BASE = 30  # NOTIFY_RETRY_SECONDS by default
SIX_HOURS = 6 * 3600


def retry_bounds(attempts: int, base: float = BASE) -> tuple[float, float]:
    """The documented wait after the ``attempts``-th failure, in seconds: base x
    2^(attempts-1), at most six hours, times a factor between 0.5 and 1.5."""
    middle = min(base * 2 ** (attempts - 1), SIX_HOURS)
    return 0.5 * middle, 1.5 * middle


def send_campaign(
    app: Flask,
    now: datetime,
    title: str,
    body: str,
    scope: str,
    channels: tuple[str, ...],
    kind: str = "editorial",
) -> int:
    """Create a campaign and send it now (its deliveries wait in the outbox); its id."""
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign, send_now

    with app.app_context():
        created = create_campaign(Draft(title, body, scope, kind, channels), None, now)
        send_now(created, now)
        db.session.commit()
        return created.id


def work_once(app: Flask) -> Counter[str]:
    """Run the worker until nothing is due; what happened to the deliveries."""
    from app.notify.worker import Worker

    with app.app_context():
        return Worker(name="test-worker").run(once=True)


def only_delivery(app: Flask, campaign_id: int) -> Any:
    (row,) = delivery_rows(app, campaign_id)
    return row


def states(app: Flask, campaign_id: int) -> Counter[str]:
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        rows = db.session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.campaign_id == campaign_id)
            .group_by(Delivery.state)
        )
        found = Counter({state: count for state, count in rows})
        db.session.rollback()
    return found


def delivery_rows(app: Flask, campaign_id: int) -> list[Any]:
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        db.session.rollback()
    return rows


def by_message_id(messages: list[EmailMessage]) -> dict[str, list[EmailMessage]]:
    grouped: dict[str, list[EmailMessage]] = {}
    for message in messages:
        grouped.setdefault(str(message["Message-ID"]), []).append(message)
    return grouped
