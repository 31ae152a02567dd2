"""A member's own limits: pause everything for some days, and quiet hours in their time zone.

Quiet hours are kept as minutes after local midnight; a start later than the end crosses
midnight (22:00 to 07:00). The time zone is the member's (``members.time_zone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from app.consent.errors import PreferenceError
from app.consent.models import ConsentPreferences
from app.extensions import db

MAX_PAUSE_DAYS = 365


@dataclass(frozen=True)
class Preferences:
    paused_until: datetime | None = None
    quiet_start: int | None = None
    quiet_end: int | None = None

    def paused_at(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_start is not None and self.quiet_end is not None

    @property
    def quiet_start_time(self) -> time | None:
        return minutes_to_time(self.quiet_start)

    @property
    def quiet_end_time(self) -> time | None:
        return minutes_to_time(self.quiet_end)


def minutes_to_time(minutes: int | None) -> time | None:
    return None if minutes is None else time(minutes // 60, minutes % 60)


def preferences_of(member_id: int) -> Preferences:
    row = db.session.get(ConsentPreferences, member_id, populate_existing=True)
    if row is None:
        return Preferences()
    return Preferences(row.paused_until, row.quiet_start, row.quiet_end)


def _save(member_id: int, now: datetime, **values: object) -> None:
    insert = (
        postgresql.insert(ConsentPreferences)
        if db.dialect == "postgresql"
        else sqlite.insert(ConsentPreferences)
    )
    changes = {**values, "updated_at": now}
    db.session.execute(
        insert.values(member_id=member_id, **changes).on_conflict_do_update(
            index_elements=["member_id"], set_=changes
        )
    )


def pause_everything(member_id: int, days: int, now: datetime) -> datetime:
    """Pause every gated message to the member for ``days`` days; returns when it ends.
    Raises :class:`PreferenceError` outside 1 to 365 days."""
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise PreferenceError(f"Choose between 1 and {MAX_PAUSE_DAYS} days.")
    until = now + timedelta(days=days)
    _save(member_id, now, paused_until=until)
    return until


def resume_everything(member_id: int, now: datetime) -> None:
    _save(member_id, now, paused_until=None)


def set_quiet_hours(member_id: int, start: time | None, end: time | None, now: datetime) -> None:
    """Set quiet hours from ``start`` to ``end`` local time, or clear them with two Nones.
    Raises :class:`PreferenceError` when only one is given or both are the same."""
    if (start is None) != (end is None):
        raise PreferenceError("Give both the start and the end of your quiet hours, or neither.")
    if start is not None and end is not None:
        if (start.hour, start.minute) == (end.hour, end.minute):
            raise PreferenceError("Quiet hours must start and end at different times.")
        _save(
            member_id,
            now,
            quiet_start=start.hour * 60 + start.minute,
            quiet_end=end.hour * 60 + end.minute,
        )
    else:
        _save(member_id, now, quiet_start=None, quiet_end=None)
