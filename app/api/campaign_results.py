"""Campaigns as the API shows them: state, scope, kind, dates and results, counted as the
marketers' screens count them (people reached and what they did, from
:func:`app.notify.funnel_people.people_funnel`; deliveries from :func:`app.notify.results.funnel`).
Lists are pages of campaigns, newest first, with a cursor to the next page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api.errors import NotFound
from app.extensions import db
from app.notify.campaigns import get_campaign
from app.notify.funnel_people import people_funnel
from app.notify.models import Campaign
from app.notify.results import funnel
from app.web.converters import MAX_ID

_STEPS = {
    "opened or read it": "opened_or_read",
    "clicked a link": "clicked",
    "said it was useful": "useful",
    "replied": "replied",
    "said “not for me”": "not_for_me",
    "unsubscribed": "unsubscribed",
}


def results_of(campaign: Campaign) -> dict[str, int]:
    people = people_funnel(campaign)
    counts = funnel(campaign)
    found = {_STEPS[step.label]: step.people for step in people.steps if step.label in _STEPS}
    return {
        "people_queued": people.people_queued,
        "people_reached": people.people_reached,
        **{name: found.get(name, 0) for name in _STEPS.values()},
        "deliveries_sent": int(counts["sent"]),
        "deliveries_failed": int(counts["failed"]),
        "deliveries_waiting": int(counts["queued"]) + int(counts.get("retrying", 0)),
        "deliveries_suppressed": int(counts["suppressed"]),
    }


def describe(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "title": campaign.title,
        "scope": campaign.scope,
        "kind": str(campaign.kind),
        "state": str(campaign.state),
        "channels": [str(c) for c in campaign.channel_list],
        "created_at": campaign.created_at,
        "send_at": campaign.send_at,
        "enqueued_at": campaign.enqueued_at,
        "finished_at": campaign.finished_at,
        "cancelled_at": campaign.cancelled_at,
        "results": results_of(campaign),
    }


def campaign_page(limit: int, cursor: str | None) -> dict[str, Any]:
    """Up to ``limit`` campaigns, newest (highest id) first, after ``cursor`` (the last id of
    the page before)."""
    statement = select(Campaign).order_by(Campaign.id.desc()).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(Campaign.id < min(int(cursor), MAX_ID))
    found = list(db.session.scalars(statement))
    page, more = found[:limit], len(found) > limit
    return {
        "items": [describe(c) for c in page],
        "next_cursor": str(page[-1].id) if more and page else None,
    }


def one_campaign(campaign_id: int) -> dict[str, Any]:
    """Raises :class:`NotFound`."""
    campaign = get_campaign(campaign_id)
    if campaign is None:
        raise NotFound(f"There is no campaign {campaign_id}.")
    return describe(campaign)
