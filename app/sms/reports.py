"""What Kannel's delivery reports do to a campaign's text: it reached the phone, or it did not
(the delivery fails, emitting :class:`~app.notify.outbox.DeliveryFailed`, and a refusal by the
SMS centre suppresses the number). Reports on the product's own system texts are
:func:`app.consent.texts.record_report`."""

from __future__ import annotations

from sqlalchemy import select

from app import clock, events
from app.consent import phones, texts
from app.consent.terms import Channel
from app.extensions import db
from app.notify.models import Delivery
from app.notify.outbox import DeliveryFailed
from app.notify.states import UNDELIVERED, DeliveryState


def record_delivery_report(delivery_id: int, status: int) -> None:
    """A campaign text reached the phone (delivered), or did not (the delivery fails; a
    refusal by the SMS centre suppresses the number). The caller commits.

    The report can come while the worker still records the send: on PostgreSQL the row lock
    waits for it; on SQLite the row is still ``leased`` then, and the worker's record keeps
    what the report said (see :data:`app.notify.worker._SENT`)."""
    found = db.session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update(of=Delivery)
    ).first()
    if found is None or found.channel != Channel.SMS:
        return
    if found.state not in (DeliveryState.SENT, DeliveryState.LEASED):
        return
    now = clock.now()
    if status & texts.DELIVERED_TO_PHONE:
        found.delivered_at = found.delivered_at or now
    elif status & (texts.UNDELIVERED | texts.SMSC_REJECTED):
        found.reason = UNDELIVERED
        found.last_error = f"the SMS centre reported {status}: not delivered"
        if found.state == DeliveryState.SENT:
            found.state, found.finished_at = DeliveryState.DEAD, now
            events.emit(
                DeliveryFailed(
                    delivery_id=found.id,
                    campaign_id=found.campaign_id,
                    member_id=found.member_id,
                    channel=found.channel,
                    reason=UNDELIVERED,
                    error=found.last_error,
                    at=now,
                )
            )
        if status & texts.SMSC_REJECTED:
            number = phones.number_of(found.member_id)
            if number is not None:
                phones.mark_failed(number.number, now)
