"""The tables of the event webhook endpoints and their deliveries.

``event_endpoints`` holds the addresses an admin registered, each with its own Standard Webhooks
secret (and, for a day after a rotation, the one before it) and the events it subscribed to.
``event_deliveries`` holds one row per event and endpoint, written in the transaction of the
event's cause: the signed body as sent (the same bytes on every attempt, under the same
``message_id``), its state, attempts and next due time, and what the endpoint last answered. A
replay is a new row with the same body and message id, pointing at the row it replays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.api.hooks_terms import EventType, HookState
from app.database.core import Base
from app.database.types import EnumText, UTCDateTime


class EventEndpoint(Base):
    """An address that receives the site's events. ``events`` is None for every event (those
    added later too), or the subscribed types separated by commas. It receives new events
    while ``disabled_at`` is empty; ``disabled_reason`` tells the admin why it was disabled
    (by an admin, after a 410 Gone, or after failing for days). ``failing_since`` is the
    first failed attempt since the last accepted one."""

    __tablename__ = "event_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[str | None] = mapped_column(String(400), default=None)
    secret: Mapped[str] = mapped_column(String(64))
    previous_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def event_types(self) -> tuple[EventType, ...] | None:
        """The subscribed events, or None for every event."""
        if self.events is None:
            return None
        return tuple(EventType(word) for word in self.events.split(",") if word)

    def wants(self, event_type: EventType) -> bool:
        chosen = self.event_types
        return chosen is None or event_type in chosen

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class EventDelivery(Base):
    """One event to one endpoint: the signed message's body (``payload``, the JSON text sent
    on every attempt) and its fate. ``member_id`` is the member the event is about (emptied
    when the member is deleted), so a deletion can take their delivery log with it."""

    __tablename__ = "event_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[EventType] = mapped_column(EnumText(EventType, 40))
    message_id: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    payload: Mapped[str] = mapped_column(Text())
    state: Mapped[HookState] = mapped_column(EnumText(HookState, 16), default=HookState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(SmallInteger(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replay_of: Mapped[int | None] = mapped_column(
        ForeignKey("event_deliveries.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
        Index("ix_event_deliveries_due", "state", "next_attempt_at"),
        Index("ix_event_deliveries_endpoint", "endpoint_id", "id"),
        Index("ix_event_deliveries_member", "member_id"),
        Index("ix_event_deliveries_finished", "finished_at"),
    )
