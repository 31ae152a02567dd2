"""Reading the outbox in tests: deliveries of a campaign, counts per state, messages grouped by
Message-ID, and the retry policy's documented bounds."""

from __future__ import annotations

from collections import Counter
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
