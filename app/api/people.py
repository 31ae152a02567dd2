"""What the API tells about a member, and the one thing it records for one (a purchase).

A member is found by email address (case-insensitively) or by id; a deleted member is not
found. Nothing here creates a member, and nothing writes consent: a CRM reads the ledger's
state and honours it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app.accounts.members import find_by_email, get_member
from app.accounts.models import Member
from app.api.errors import NotFound
from app.consent.ledger.consents import history, states_of
from app.consent.scopes import find_scope
from app.engage.actions import record_action
from app.rewards.entitlements import entitlements_of, rule_book
from app.web.converters import MAX_ID

LATEST_EVENTS = 20
ID = re.compile(r"^[1-9][0-9]{0,9}$")


def find_member(reference: str) -> Member:
    """The live member ``reference`` names: an email address (any case) or an id.

    Raises :class:`NotFound`.
    """
    member = None
    if ID.match(reference) and int(reference) <= MAX_ID:
        member = get_member(int(reference))
    elif "@" in reference:
        member = find_by_email(reference)
    if member is None or member.deleted_at is not None:
        raise NotFound("No member has this email address or id.")
    return member


def find_member_by_email(email: str) -> Member:
    """The live member with this address (any case). Raises :class:`NotFound`."""
    member = find_by_email(email)
    if member is None or member.deleted_at is not None:
        raise NotFound("No member has this email address.")
    return member


def _kind(reward: str) -> str:
    return reward.partition(":")[0]


def member_summary(member: Member) -> dict[str, Any]:
    held = entitlements_of(member.id)
    return {
        "id": member.id,
        "email": member.email,
        "confirmed": member.email_verified_at is not None,
        "joined": member.created_at,
        "rewards": [
            {
                "reward": e.reward,
                "kind": _kind(e.reward),
                "earned_by": e.earned_by,
                "earned_at": e.earned_at,
            }
            for e in held
        ],
        "scopes": [e.reward.partition(":")[2] for e in held if _kind(e.reward) == "scope"],
    }


def consent_summary(member: Member) -> dict[str, Any]:
    """Per earned scope and each of its channels, the state in force; and the latest ledger
    events. ``granted`` is true only for a yes on the scope's current wording (what the gate
    honours)."""
    states = states_of(member.id)
    events = history(member.id)
    receipts = {e.id: e.receipt for e in events}
    rows = []
    for entitlement in entitlements_of(member.id):
        if _kind(entitlement.reward) != "scope":
            continue
        scope = find_scope(entitlement.reward.partition(":")[2])
        if scope is None:
            continue
        for channel in scope.channels:
            state = states.get((scope.slug, str(channel)))
            current = state is not None and state.wording_version == scope.consent_version
            rows.append(
                {
                    "scope": scope.slug,
                    "channel": str(channel),
                    "granted": bool(state is not None and state.granted and current),
                    "answered": state is not None,
                    "since": state.changed_at if state is not None else None,
                    "wording_version": state.wording_version if state is not None else None,
                    "current_wording_version": scope.consent_version,
                    "receipt": receipts.get(state.event_id) if state is not None else None,
                }
            )
    return {
        "member_id": member.id,
        "email": member.email,
        "states": rows,
        "events": [
            {
                "receipt": e.receipt,
                "scope": e.scope,
                "channel": str(e.channel),
                "action": e.action,
                "at": e.at,
                "source": e.source,
                "wording": e.wording,
                "wording_version": e.wording_version,
            }
            for e in events[:LATEST_EVENTS]
        ],
    }


def record_purchase(email: str, action: str, now: datetime) -> dict[str, Any]:
    """Record ``action`` (``purchase:<sku>``) for the member with this address; the earning
    rules run in the same transaction. The caller commits. Raises :class:`NotFound` for an
    address no member has."""
    member = find_member_by_email(email)
    before = {e.reward for e in entitlements_of(member.id)}
    recorded = record_action(member.id, action, now)
    book = rule_book()
    earned = []
    for entitlement in entitlements_of(member.id):
        if entitlement.reward in before:
            continue
        rule = book.rule_for(entitlement.reward)
        earned.append(
            {
                "reward": entitlement.reward,
                "kind": _kind(entitlement.reward),
                "title": rule.title if rule is not None else entitlement.reward,
            }
        )
    return {"recorded": recorded, "action": action, "member_id": member.id, "rewards": earned}
