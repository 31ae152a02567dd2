"""What each event webhook message says: the ``data`` of every event type, built from the
typed event that caused it and the rows it names, read in the cause's own transaction.

Every message about a member carries ``member``: ``{"id", "email", "name"}`` (the CRM on the
other end knows people by their address). Times are ISO 8601 in UTC. The fields of each type
are listed in the README's "Event webhooks" section; a field is only ever added, never renamed
or removed, so receivers may ignore what they do not know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.accounts.members import MemberVerified
from app.accounts.models import Member
from app.consent.ledger.consents import (
    REVOKE,
    ConsentGranted,
    ConsentRevoked,
    event_in_force,
)
from app.engage.actions import ActionRecorded, parse_action
from app.extensions import db
from app.notify.conversation import ReplyReceived
from app.notify.models import Campaign, Reply
from app.notify.outbox import DeliveryFailed, DeliverySent
from app.rewards.entitlements import RewardGranted

Data = dict[str, Any]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def member_data(member_id: int) -> Data:
    """The member an event is about, as every message names them."""
    member = db.session.get(Member, member_id)
    if member is None:
        return {"id": member_id, "email": None, "name": None}
    return {"id": member.id, "email": member.email, "name": member.display_name or None}


def campaign_data(campaign_id: int) -> Data:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return {"id": campaign_id, "title": None, "scope": None, "kind": None}
    return {
        "id": campaign.id,
        "title": campaign.title,
        "scope": campaign.scope,
        "kind": str(campaign.kind),
    }


def member_confirmed(event: MemberVerified) -> Data:
    return {"member": member_data(event.member_id), "confirmed_at": _iso(event.at)}


def consent_granted(event: ConsentGranted) -> Data:
    return {
        "member": member_data(event.member_id),
        "scope": event.scope,
        "channel": str(event.channel),
        "source": event.source,
        "receipt": event.receipt,
        "granted_at": _iso(event.at),
    }


def consent_revoked(event: ConsentRevoked) -> Data:
    found = event_in_force(event.member_id, event.scope, event.channel, event.at)
    return {
        "member": member_data(event.member_id),
        "scope": event.scope,
        "channel": str(event.channel),
        "source": event.source,
        "receipt": found.receipt if found is not None and found.action == REVOKE else None,
        "revoked_at": _iso(event.at),
    }


def action_recorded(event: ActionRecorded) -> Data:
    kind, ref = parse_action(event.action)
    return {
        "member": member_data(event.member_id),
        "action": event.action,
        "kind": kind,
        "ref": ref,
        "recorded_at": _iso(event.at),
    }


def reward_earned(event: RewardGranted) -> Data:
    kind, _, ref = event.reward.partition(":")
    return {
        "member": member_data(event.member_id),
        "reward": event.reward,
        "kind": kind,
        "ref": ref or None,
        "earned_by": event.earned_by,
        "earned_at": _iso(event.at),
    }


def delivery_sent(event: DeliverySent) -> Data:
    return {
        "member": member_data(event.member_id),
        "delivery": event.delivery_id,
        "campaign": campaign_data(event.campaign_id),
        "channel": str(event.channel),
        "message_id": event.message_id,
        "sent_at": _iso(event.at),
    }


def delivery_failed(event: DeliveryFailed) -> Data:
    return {
        "member": member_data(event.member_id),
        "delivery": event.delivery_id,
        "campaign": campaign_data(event.campaign_id),
        "channel": str(event.channel),
        "reason": event.reason,
        "error": event.error,
        "failed_at": _iso(event.at),
    }


def reply_received(event: ReplyReceived) -> Data:
    reply = db.session.get(Reply, event.reply_id)
    return {
        "member": member_data(event.member_id),
        "reply": event.reply_id,
        "delivery": event.delivery_id,
        "campaign": campaign_data(event.campaign_id),
        "channel": str(event.channel),
        "text": reply.body if reply is not None else None,
        "received_at": _iso(event.at),
    }


def endpoint_test(endpoint_id: int, by: str | None, now: datetime) -> Data:
    """The data of the message an admin's "Send a test event" button sends."""
    return {
        "endpoint": endpoint_id,
        "sent_by": by,
        "note": "A test event from Pullfirst, sent from the admin screen. Nothing happened.",
        "sent_at": _iso(now),
    }
