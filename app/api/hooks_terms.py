"""The words of the event webhooks as types: the events an endpoint can subscribe to, and the
states of one delivery of an event to one endpoint. Each is a ``StrEnum`` whose members are the
strings stored in the database and sent in the ``type`` of every message."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """What happened, as the ``type`` of a message (Standard Webhooks: ``noun.verb``)."""

    MEMBER_CONFIRMED = "member.confirmed"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_REVOKED = "consent.revoked"
    ACTION_RECORDED = "action.recorded"
    REWARD_EARNED = "reward.earned"
    DELIVERY_SENT = "delivery.sent"
    DELIVERY_FAILED = "delivery.failed"
    REPLY_RECEIVED = "reply.received"
    # Sent only by an admin's "Send a test event" button, to the one endpoint it was pressed
    # for; no endpoint subscribes to it.
    ENDPOINT_TEST = "endpoint.test"


#: The events an endpoint can subscribe to, in the order the admin screen lists them.
EVENTS: tuple[EventType, ...] = tuple(t for t in EventType if t is not EventType.ENDPOINT_TEST)

#: What each event means, for the admin screen's check boxes.
EVENT_WORDS: dict[EventType, str] = {
    EventType.MEMBER_CONFIRMED: "a member confirmed their email address",
    EventType.CONSENT_GRANTED: "a member said yes to a scope on a channel",
    EventType.CONSENT_REVOKED: "a member (or a stop on their behalf) said no",
    EventType.ACTION_RECORDED: "a member took an action for the first time",
    EventType.REWARD_EARNED: "a member earned a sticker pack or a scope offer",
    EventType.DELIVERY_SENT: "a campaign's message was handed over on a channel",
    EventType.DELIVERY_FAILED: "a campaign's message was given up for good",
    EventType.REPLY_RECEIVED: "a member replied to a campaign's message",
}


class HookState(StrEnum):
    """One delivery of an event to one endpoint: waiting for its (next) attempt, accepted
    with a 2xx, or given up (every attempt failed, the endpoint answered 410 Gone)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
