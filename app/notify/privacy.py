"""The notifier's part of a member's data export: messages, replies and followed links.
Deleting a member deletes these rows with the member (foreign keys cascade)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.notify.models import Campaign, Click, Delivery, Reply


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_messages(member_id: int) -> dict[str, Any]:
    deliveries = db.session.execute(
        select(Delivery, Campaign.title, Campaign.scope)
        .join(Campaign)
        .where(Delivery.member_id == member_id)
        .order_by(Delivery.id)
    ).all()
    clicks = db.session.execute(
        select(Click.delivery_id, Click.url, Click.at)
        .join(Delivery)
        .where(Delivery.member_id == member_id)
        .order_by(Click.id)
    ).all()
    replies = db.session.scalars(
        select(Reply).where(Reply.member_id == member_id).order_by(Reply.at, Reply.id)
    )
    return {
        "deliveries": [
            {
                "id": d.id,
                "campaign": title,
                "scope": scope,
                "channel": d.channel,
                "state": d.state,
                "sent_at": _iso(d.sent_at),
                "read_at": _iso(d.read_at),
                "clicked_at": _iso(d.clicked_at),
                "useful_at": _iso(d.useful_at),
                "not_for_me_at": _iso(d.not_for_me_at),
                "unsubscribed_at": _iso(d.unsubscribed_at),
                "bounced_at": _iso(d.bounced_at),
                "bounce": d.bounce,
            }
            for d, title, scope in deliveries
        ],
        "clicks": [{"delivery": d, "url": url, "at": _iso(at)} for d, url, at in clicks],
        "conversation": [
            {"campaign": r.campaign_id, "from": r.author, "text": r.body, "at": _iso(r.at)}
            for r in replies
        ],
    }
