"""Dates and moments as people read them: one format everywhere, in the reader's own zone.

- ``|day`` writes a day: ``4 December 2026``.
- ``|moment`` writes a moment: ``4 December 2026, 14:05 CET`` (24 hours, with the zone's
  abbreviation, or its offset from UTC where the zone has no letters for it).

Whose zone: the one given to the filter; else ``reader_zone`` in the template's context (a mail
sets it to its recipient's zone, since a mail may be rendered while someone else is signed in);
else the signed-in viewer's (a member on their pages, a marketer on the admin screens); else the
site's default zone (``time_zone`` in ``site.toml``, for visitors); else UTC.

Machine-readable copies (``<time datetime>``, feeds, JSON, CSV, the sitemap) keep ISO 8601 in UTC
and never pass through these filters.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context, has_request_context
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

FALLBACK_ZONE = "UTC"

When = datetime | date | str | None


def member_zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def _aware(moment: datetime) -> datetime:
    """A naive ``moment`` is taken as UTC (the database keeps UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def zone_label(local: datetime) -> str:
    """The short name of ``local``'s zone at that moment (``CET``, ``CEST``, ``IST``), or its
    offset (``UTC-03:00``) where the zone database has only numbers for it."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def day(moment: datetime | date, zone_name: str | None) -> str:
    """The day ``moment`` falls on in ``zone_name``: ``4 December 2026``. A plain ``date`` is
    written as it is (a calendar day has no zone)."""
    if isinstance(moment, datetime):
        moment = _aware(moment).astimezone(member_zone(zone_name))
    return f"{moment.day} {moment:%B %Y}"


def local_time(moment: datetime, zone_name: str | None) -> str:
    """``moment`` on the wall clock of ``zone_name``: ``4 December 2026, 14:05 CET``."""
    local = _aware(moment).astimezone(member_zone(zone_name))
    return f"{local.day} {local:%B %Y, %H:%M} {zone_label(local)}"


def wall_clock(moment: datetime, zone_name: str | None) -> datetime:
    """``moment`` as a naive time on the clock of ``zone_name``: the value of a
    ``datetime-local`` input that a person in that zone fills in."""
    return _aware(moment).astimezone(member_zone(zone_name)).replace(tzinfo=None)


def from_wall_clock(local: datetime, zone_name: str | None) -> datetime:
    """A naive time read on the clock of ``zone_name`` (a ``datetime-local`` input), as an
    aware moment in UTC. In the hour a clock skips or repeats, the earlier reading is taken."""
    return local.replace(tzinfo=member_zone(zone_name)).astimezone(UTC)


def _parse(value: When) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def reader_zone(context: Context | dict[str, Any] | None = None) -> str:
    """The zone of whoever reads the page or mail being rendered (see the module docstring)."""
    if context is not None and context.get("reader_zone"):
        return str(context.get("reader_zone"))
    if has_request_context() and current_user and current_user.is_authenticated:
        return str(current_user.time_zone)
    return site_zone(context)


def site_zone(context: Context | dict[str, Any] | None = None) -> str:
    """The site's default zone: ``site.time_zone`` in the template's context, or the
    ``site_zone()`` global the site area registers (macros imported without context see only
    globals); UTC outside a template or without the site area."""
    site = context.get("site") if context is not None else None
    if site is not None:
        return str(getattr(site, "time_zone", "") or FALLBACK_ZONE)
    environment = getattr(context, "environment", None)
    if environment is None and has_app_context():
        environment = current_app.jinja_env
    found = environment.globals.get("site_zone") if environment is not None else None
    return str(found() if callable(found) else FALLBACK_ZONE)


@pass_context
def day_filter(context: Context, value: When, zone_name: str | None = None) -> str:
    """``{{ moment|day }}`` in the reader's zone, or ``{{ moment|day(member.time_zone) }}``.
    Takes an ISO 8601 string too; empty for None."""
    parsed = _parse(value)
    if parsed is None:
        return ""
    return day(parsed, zone_name or reader_zone(context))


@pass_context
def moment_filter(context: Context, value: When, zone_name: str | None = None) -> str:
    """``{{ moment|moment }}`` in the reader's zone, or ``{{ moment|moment(zone) }}``. Takes an
    ISO 8601 string too (a receipt's times); empty for None. A plain date is written as a day."""
    parsed = _parse(value)
    if parsed is None:
        return ""
    if not isinstance(parsed, datetime):
        return day(parsed, None)
    return local_time(parsed, zone_name or reader_zone(context))
