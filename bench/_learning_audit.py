"""The promise audit of ``bench/learning.py`` (not a benchmark itself).

Every message the sink received is matched to its delivery in the database, and every
delivery the database calls sent to a message in the sink; then each one is checked against
its scope's promise, on its own, without the gate's code: at most ``max_per_week`` campaigns of
the scope in any 7 days and ``max_per_month`` in any 30 (per member and scope), only on the
scope's days and inside its send window in the member's time zone, never in the member's quiet
hours, and never without a grant in force at the moment it was sent (the consent ledger's
latest event for the member, scope and channel at or before that moment).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.accounts.models import Member
from app.consent.models import ConsentEvent, ConsentPreferences, ConsentSubject
from app.consent.scopes import Scope, find_scope
from app.extensions import db
from app.notify.models import Campaign, Delivery

WEEK, MONTH = timedelta(days=7), timedelta(days=30)


@dataclass
class Audit:
    checked: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.violations.values())

    def flag(self, kind: str, example: str) -> None:
        self.violations[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {example}")


def _inside(start: int, end: int, minute: int) -> bool:
    return start <= minute < end if start < end else minute >= start or minute < end


def _schedule_fault(scope: Scope, local: datetime) -> str | None:
    minute, weekday = local.hour * 60 + local.minute, local.weekday()
    if scope.send_window is not None:
        start, end = scope.send_window
        if not _inside(start, end, minute):
            return "outside the send window"
        if start > end and minute < end:
            weekday = (weekday - 1) % 7  # a window past midnight belongs to the day it opened
    if scope.days and weekday not in scope.days:
        return "not on the scope's days"
    return None


def audit_promises(sink_deliveries: list[int]) -> Audit:
    """Check every sent delivery (needs an app context)."""
    result = Audit()
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.member_id,
            Delivery.channel,
            Delivery.sent_at,
            Delivery.campaign_id,
            Campaign.scope,
        )
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.sent_at.is_not(None))
        .order_by(Delivery.sent_at, Delivery.id)
    ).all()
    in_sink = Counter(sink_deliveries)
    sent = {row.id for row in rows}
    for delivery, times in in_sink.items():
        if delivery not in sent:
            result.flag("mailed but not recorded as sent", f"delivery {delivery}")
        elif times > 1:
            result.flag("mailed twice", f"delivery {delivery}")
    zones = {m: z for m, z in db.session.execute(select(Member.id, Member.time_zone)).all()}
    quiet = {
        p.member_id: (p.quiet_start, p.quiet_end)
        for p in db.session.scalars(select(ConsentPreferences))
        if p.quiet_start is not None and p.quiet_end is not None and p.quiet_start != p.quiet_end
    }
    ledger: defaultdict[tuple[int, str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for member_id, slug, channel, moment, action in db.session.execute(
        select(
            ConsentSubject.member_id,
            ConsentEvent.scope,
            ConsentEvent.channel,
            ConsentEvent.at,
            ConsentEvent.action,
        )
        .join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    ):
        ledger[(int(member_id or 0), slug, str(channel))].append((moment, action))
    # Per member and scope, when each campaign first reached them: a campaign sent on two
    # channels is one message of the promise (as the gate counts it).
    history: defaultdict[tuple[int, str], dict[int, datetime]] = defaultdict(dict)
    for row in rows:
        result.checked += 1
        at: datetime = row.sent_at
        name = (
            f"delivery {row.id} to member {row.member_id} on {row.scope} "
            f"at {at:%a %Y-%m-%d %H:%M} UTC"
        )
        if row.id not in in_sink:
            result.flag("recorded as sent but not in the sink", name)
        found = find_scope(row.scope)
        if found is None:
            result.flag("unknown scope", name)
            continue
        scope: Scope = found
        earlier = history[(row.member_id, row.scope)]
        earlier.setdefault(row.campaign_id, at)
        if sum(1 for t in earlier.values() if t > at - WEEK) > scope.max_per_week:
            result.flag("over max_per_week", name)
        if scope.max_per_month is not None and (
            sum(1 for t in earlier.values() if t > at - MONTH) > scope.max_per_month
        ):
            result.flag("over max_per_month", name)
        local = at.astimezone(ZoneInfo(zones.get(row.member_id, "UTC")))
        fault = _schedule_fault(scope, local)
        if fault is not None:
            result.flag(fault, f"{name} ({local:%a %H:%M} local)")
        window = quiet.get(row.member_id)
        if window is not None and _inside(*window, local.hour * 60 + local.minute):
            result.flag("in quiet hours", f"{name} ({local:%H:%M} local)")
        events = [a for t, a in ledger[(row.member_id, row.scope, str(row.channel))] if t <= at]
        if not events or events[-1] != "grant":
            result.flag("no consent in force", name)
    return result
