"""Moments as a member reads them: in the member's own time zone, with the zone named, in one
format everywhere ("4 Dec 2026, 16:05 (Europe/Berlin)"). Machine-readable copies (JSON,
``<time datetime>``) keep ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_login import current_user

FALLBACK_ZONE = "UTC"


def member_zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def local_time(moment: datetime, zone_name: str | None) -> str:
    """``moment`` on the wall clock of ``zone_name``, e.g. ``4 Dec 2026, 16:05
    (Europe/Berlin)``. A naive ``moment`` is taken as UTC."""
    zone = member_zone(zone_name)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M} ({zone.key})"


def local_time_filter(moment: datetime | str | None, zone_name: str | None = None) -> str:
    """The ``local_time`` Jinja filter: ``{{ moment|local_time }}`` in the signed-in member's
    zone (UTC for a visitor), or ``{{ moment|local_time(member.time_zone) }}``. Takes an ISO
    8601 string too (a receipt's times); empty for None."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if zone_name is None and current_user and current_user.is_authenticated:
        zone_name = current_user.time_zone
    return local_time(moment, zone_name)
