"""Dates as the engage area's pages and messages write them, in the one format of
:mod:`app.web.times` ("4 December 2026")."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.accounts.members import get_member
from app.web.times import day


def long_date(moment: datetime, zone_name: str | None = None) -> str:
    """``1 November 2026``: the day ``moment`` falls on in ``zone_name``. Without a zone the
    day is the calendar day in UTC, as editors write dates in content files."""
    return day(moment, zone_name or "UTC")


def members_day(moment: datetime, member_id: int) -> str:
    """The day ``moment`` falls on in the member's own zone (a message to that member)."""
    member = get_member(member_id)
    return long_date(moment, member.time_zone if member is not None else None)


def last_day(end: datetime) -> str:
    """The last day before an exclusive end such as ``2027-02-01T00:00Z``: ``31 January 2027``."""
    return long_date(end - timedelta(microseconds=1))
