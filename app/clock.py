"""The clock. Code that needs "now" asks for it here, so tests can move time.

Tests install a callable with :func:`set_clock`; everything else gets the system's UTC time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def set_clock(app: Flask, clock: Clock) -> None:
    app.extensions["pullfirst.clock"] = clock


def now() -> datetime:
    """The current time, time-zone aware (UTC)."""
    if has_app_context():
        clock: Clock = current_app.extensions.get("pullfirst.clock", system_clock)
        return clock()
    return system_clock()
