"""Dates as the engage area's pages and messages write them."""

from __future__ import annotations

from datetime import datetime, timedelta


def long_date(moment: datetime) -> str:
    """``1 November 2026``."""
    return f"{moment.day} {moment:%B %Y}"


def last_day(end: datetime) -> str:
    """The last day before an exclusive end such as ``2027-02-01T00:00Z``: ``31 January 2027``."""
    return long_date(end - timedelta(microseconds=1))
