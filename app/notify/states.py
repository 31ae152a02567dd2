"""The notifier's states as types. Each is a ``StrEnum`` whose members are the strings stored
in the database, so they compare equal to them and templates can show them as they are."""

from __future__ import annotations

from enum import StrEnum


class CampaignState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    """A delivery in the outbox: waiting (``queued``, ``retry``), taken by a worker
    (``leased``), or finished (the rest)."""

    QUEUED = "queued"
    LEASED = "leased"
    RETRY = "retry"
    SENT = "sent"
    SUPPRESSED = "suppressed"
    DEAD = "dead"
    CANCELLED = "cancelled"


WAITING = frozenset({DeliveryState.QUEUED, DeliveryState.LEASED, DeliveryState.RETRY})

# The reason of a delivery the receiving network reported it could not deliver (an SMS
# centre's delivery report), after it was handed over.
UNDELIVERED = "undelivered"
