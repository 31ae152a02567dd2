"""Binds the event webhooks: the handlers that queue events, the worker chore that delivers them,
and the admin screens for endpoints to an app.

Each handler runs in the transaction of its event's cause (see :mod:`app.events`), so a
delivery is queued exactly when the cause commits."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app

from app import events
from app.accounts.members import MemberVerified
from app.accounts.privacy import MemberDeleting, register_exporter
from app.api import hooks_payloads as payloads
from app.api import hooks_screens
from app.api.hooks import export_deliveries, forget_member, queue_event
from app.api.hooks_delivery import deliver_due
from app.api.hooks_terms import EventType
from app.consent.ledger.consents import ConsentGranted, ConsentRevoked
from app.engage.actions import ActionRecorded
from app.notify.chores import register_chore
from app.notify.conversation import ReplyReceived
from app.notify.outbox import DeliveryFailed, DeliverySent
from app.rewards.entitlements import RewardGranted


def _member_confirmed(event: MemberVerified) -> None:
    queue_event(
        EventType.MEMBER_CONFIRMED,
        event.member_id,
        lambda: payloads.member_confirmed(event),
        event.at,
    )


def _consent_granted(event: ConsentGranted) -> None:
    queue_event(
        EventType.CONSENT_GRANTED,
        event.member_id,
        lambda: payloads.consent_granted(event),
        event.at,
    )


def _consent_revoked(event: ConsentRevoked) -> None:
    queue_event(
        EventType.CONSENT_REVOKED,
        event.member_id,
        lambda: payloads.consent_revoked(event),
        event.at,
    )


def _action_recorded(event: ActionRecorded) -> None:
    queue_event(
        EventType.ACTION_RECORDED,
        event.member_id,
        lambda: payloads.action_recorded(event),
        event.at,
    )


def _reward_earned(event: RewardGranted) -> None:
    queue_event(
        EventType.REWARD_EARNED, event.member_id, lambda: payloads.reward_earned(event), event.at
    )


def _delivery_sent(event: DeliverySent) -> None:
    queue_event(
        EventType.DELIVERY_SENT, event.member_id, lambda: payloads.delivery_sent(event), event.at
    )


def _delivery_failed(event: DeliveryFailed) -> None:
    queue_event(
        EventType.DELIVERY_FAILED,
        event.member_id,
        lambda: payloads.delivery_failed(event),
        event.at,
    )


def _reply_received(event: ReplyReceived) -> None:
    queue_event(
        EventType.REPLY_RECEIVED, event.member_id, lambda: payloads.reply_received(event), event.at
    )


def _member_deleting(event: MemberDeleting) -> None:
    forget_member(event.member_id)


def _deliver(now: datetime) -> None:
    deliver_due(now, allow_loopback=bool(current_app.config["WEBHOOK_ALLOW_LOOPBACK"]))


def init_app(app: Flask) -> None:
    events.subscribe(app, MemberVerified, _member_confirmed)
    events.subscribe(app, ConsentGranted, _consent_granted)
    events.subscribe(app, ConsentRevoked, _consent_revoked)
    events.subscribe(app, ActionRecorded, _action_recorded)
    events.subscribe(app, RewardGranted, _reward_earned)
    events.subscribe(app, DeliverySent, _delivery_sent)
    events.subscribe(app, DeliveryFailed, _delivery_failed)
    events.subscribe(app, ReplyReceived, _reply_received)
    events.subscribe(app, MemberDeleting, _member_deleting)
    register_exporter(app, "event_webhooks", export_deliveries)
    register_chore(app, "event webhooks", _deliver, prompt=True)
    hooks_screens.register(app)
