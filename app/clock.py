"""The clock. Code that needs "now" asks for it here, so tests can move time.

Tests install a callable with :func:`set_clock`; everything else gets the system's UTC time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, has_app_context

from app.registry import Slot

Clock = Callable[[], datetime]

CLOCK = Slot[Clock](
    "clock", "the clock tests install (empty: the system's UTC time)", set_by="app.clock.set_clock"
)


def system_clock() -> datetime:
    return datetime.now(UTC)


def set_clock(app: Flask, clock: Clock) -> None:
    CLOCK.set(app, clock)


def now() -> datetime:
    """The current time, time-zone aware (UTC)."""
    if has_app_context():
        return (CLOCK.find() or system_clock)()
    return system_clock()
