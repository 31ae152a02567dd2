"""Results of a campaign for marketers: the funnel, deliveries and engagement over time, and
per scope, audience growth and unsubscribe rate over time. Charts are SVG drawn here from
numbers (no script): :class:`LineChart` holds the points a template draws.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.consent.models import ConsentEvent
from app.extensions import db
from app.notify.campaigns import audience_counts
from app.notify.models import Campaign, Delivery, Reply
from app.notify.states import WAITING, DeliveryState

FUNNEL = (
    "audience",
    "excluded",
    "queued",
    "sent",
    "failed",
    "suppressed",
    "cancelled",
    "clicked",
    "read",
    "useful",
    "not_for_me",
    "replied",
    "unsubscribed",
)
STEPS = (
    ("messages sent", "sent_at"),
    ("read in the inbox", "read_at"),
    ("clicked", "clicked_at"),
    ("useful", "useful_at"),
    ("not for me", "not_for_me_at"),
    ("replied", "replied_at"),
    ("unsubscribed", "unsubscribed_at"),
)


def funnel(campaign: Campaign) -> dict[str, Any]:
    """Counts of the campaign's deliveries at each step, and the audience recorded at send.
    ``excluded`` maps each gate reason to the members left out for it."""
    by_state = dict(
        db.session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.campaign_id == campaign.id)
            .group_by(Delivery.state)
        ).all()
    )
    engaged = db.session.execute(
        select(
            func.count(Delivery.clicked_at),
            func.count(Delivery.read_at),
            func.count(Delivery.useful_at),
            func.count(Delivery.not_for_me_at),
            func.count(Delivery.unsubscribed_at),
            func.count(Delivery.opened_at),
            func.count(Delivery.delivered_at),
        ).where(Delivery.campaign_id == campaign.id)
    ).one()
    replied = (
        db.session.scalar(
            select(func.count(func.distinct(Reply.member_id))).where(
                Reply.campaign_id == campaign.id, Reply.author == "member"
            )
        )
        or 0
    )
    recorded = audience_counts(campaign)
    excluded: Counter[str] = Counter()
    for numbers in recorded.values():
        reasons: dict[str, int] = numbers.get("excluded", {})  # type: ignore[assignment]
        excluded.update(reasons)
    return {
        "audience": sum(int(n.get("eligible", 0)) for n in recorded.values()),  # type: ignore[call-overload]
        "excluded": dict(excluded),
        "queued": sum(by_state.get(s, 0) for s in WAITING),
        "retrying": by_state.get(DeliveryState.RETRY, 0),
        "sent": by_state.get(DeliveryState.SENT, 0),
        "failed": by_state.get(DeliveryState.DEAD, 0),
        "suppressed": by_state.get(DeliveryState.SUPPRESSED, 0),
        "cancelled": by_state.get(DeliveryState.CANCELLED, 0),
        "clicked": engaged[0],
        "read": engaged[1],
        "useful": engaged[2],
        "not_for_me": engaged[3],
        "replied": replied,
        "unsubscribed": engaged[4],
        "opened": engaged[5],
        "delivered": engaged[6],  # texts the SMS centre reported on the phone
        "per_channel": recorded,
    }


def suppressed_reasons(campaign: Campaign) -> dict[str, int]:
    return dict(
        db.session.execute(  # type: ignore[arg-type]
            select(Delivery.reason, func.count())
            .where(Delivery.campaign_id == campaign.id, Delivery.state == DeliveryState.SUPPRESSED)
            .group_by(Delivery.reason)
        ).all()
    )


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[datetime, int]]


@dataclass(frozen=True)
class LineChart:
    """A chart of series over time in an SVG coordinate space of ``width`` x ``height``."""

    title: str
    width: int
    height: int
    lines: list[tuple[str, str]]  # (series name, SVG points attribute)
    max_value: int
    start: datetime | None
    end: datetime | None

    @property
    def empty(self) -> bool:
        return self.start is None


def line_chart(title: str, series: list[Series], width: int = 640, height: int = 220) -> LineChart:
    moments = [t for s in series for t, _ in s.points]
    if not moments:
        return LineChart(title, width, height, [], 0, None, None)
    start, end = min(moments), max(moments)
    span = max((end - start).total_seconds(), 1.0)
    top = max((v for s in series for _, v in s.points), default=0) or 1
    left, right, upper, lower = 40, width - 10, 10, height - 30
    lines = []
    for s in series:
        coords = " ".join(
            f"{left + (t - start).total_seconds() / span * (right - left):.1f},"
            f"{lower - v / top * (lower - upper):.1f}"
            for t, v in s.points
        )
        lines.append((s.name, coords))
    return LineChart(title, width, height, lines, top, start, end)


def _bucket_size(first: datetime, last: datetime) -> timedelta:
    span = last - first
    for size in (
        timedelta(minutes=1),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(days=1),
    ):
        if span <= size * 60:
            return size
    return timedelta(days=7)


def _cumulative(
    times: list[datetime], first: datetime, size: timedelta, buckets: int
) -> list[tuple[datetime, int]]:
    counts = Counter(int((t - first) / size) for t in times)
    total, points = 0, []
    for index in range(buckets + 1):
        total += counts.get(index, 0)
        points.append((first + size * index, total))
    return points


def timeline_series(campaign: Campaign) -> list[Series]:
    """Cumulative deliveries sent and engagement (read, clicked, useful, replied…) over time,
    one series per step that happened, on shared time buckets."""
    columns = [getattr(Delivery, column) for _, column in STEPS]
    rows = db.session.execute(select(*columns).where(Delivery.campaign_id == campaign.id)).all()
    per_step: dict[str, list[datetime]] = {name: [] for name, _ in STEPS}
    for row in rows:
        for (name, _), value in zip(STEPS, row, strict=True):
            if value is not None:
                per_step[name].append(value)
    everything = [t for times in per_step.values() for t in times]
    if not everything:
        return []
    first, last = min(everything), max(everything)
    size = _bucket_size(first, last)
    buckets = int((last - first) / size) + 1
    return [
        Series(name, _cumulative(times, first, size, buckets))
        for name, times in per_step.items()
        if times
    ]


def timeline(campaign: Campaign) -> LineChart:
    """Cumulative deliveries sent and engagement (read, clicked, useful, replied) over time."""
    shown = timeline_series(campaign)
    if not shown:
        return line_chart("Deliveries and engagement", [])
    return line_chart("Deliveries and engagement (cumulative)", shown)


def scope_history(
    scope: str, now: datetime, channel: str | None = None, weeks: int = 26
) -> dict[str, Any]:
    """Week by week for ``scope``: grants, revokes, the audience (standing grants) at the end of
    the week, and the unsubscribe rate (revokes / audience at the start of the week)."""
    query = select(
        ConsentEvent.subject_id, ConsentEvent.channel, ConsentEvent.action, ConsentEvent.at
    ).where(ConsentEvent.scope == scope)
    if channel is not None:
        query = query.where(ConsentEvent.channel == channel)
    events = db.session.execute(query.order_by(ConsentEvent.at, ConsentEvent.id)).all()
    if not events:
        return {"weeks": [], "chart": line_chart(f"Audience of {scope}", []), "series": []}
    first = min(events[0].at, now - timedelta(weeks=weeks))
    week_start = (first - timedelta(days=first.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    state: dict[tuple[int, str], bool] = {}
    rows, index = [], 0
    while week_start <= now:
        week_end = week_start + timedelta(days=7)
        audience_before = sum(state.values())
        grants = revokes = 0
        while index < len(events) and events[index].at < week_end:
            event = events[index]
            key = (event.subject_id, event.channel)
            was = state.get(key, False)
            now_granted = event.action == "grant"
            if now_granted and not was:
                grants += 1
            if not now_granted and was:
                revokes += 1
            state[key] = now_granted
            index += 1
        audience = sum(state.values())
        rate = revokes / audience_before if audience_before else 0.0
        rows.append(
            {
                "week": week_start.date().isoformat(),
                "grants": grants,
                "revokes": revokes,
                "audience": audience,
                "unsubscribe_rate": round(rate, 4),
            }
        )
        week_start = week_end
    rows = rows[-weeks:]
    moments = [datetime.fromisoformat(r["week"]).replace(tzinfo=UTC) for r in rows]
    series = [
        Series("audience", list(zip(moments, [r["audience"] for r in rows], strict=True))),
        Series("unsubscribes", list(zip(moments, [r["revokes"] for r in rows], strict=True))),
    ]
    chart = line_chart(f"Audience of {scope} by week", series)
    return {"weeks": rows, "chart": chart, "series": series}
