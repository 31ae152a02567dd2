"""The notifier's figures for ``/metrics``: the outbox's depth, and every delivery by channel
and state. One grouped count per scrape."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.notify.models import Delivery
from app.notify.states import DeliveryState
from app.ops.metrics import Family

# Deliveries that still wait for a worker: new, leased to one, or waiting for a retry.
OUTBOX_STATES = (DeliveryState.QUEUED, DeliveryState.LEASED, DeliveryState.RETRY)


def outbox_figures() -> list[Family]:
    """``pullfirst_outbox_depth`` by state and ``pullfirst_deliveries`` by channel and state."""
    rows = db.session.execute(
        select(Delivery.channel, Delivery.state, func.count())
        .group_by(Delivery.channel, Delivery.state)
        .order_by(Delivery.channel, Delivery.state)
    )
    depth = dict.fromkeys(OUTBOX_STATES, 0)
    deliveries = Family(
        "pullfirst_deliveries", "gauge", "Deliveries in the outbox's history, by channel and state."
    )
    for channel, state, count in rows:
        deliveries.add(count, channel=channel, state=state)
        if state in depth:
            depth[state] += count
    outbox = Family("pullfirst_outbox_depth", "gauge", "Deliveries waiting for a worker, by state.")
    for state, count in depth.items():
        outbox.add(count, state=state)
    return [outbox, deliveries]
