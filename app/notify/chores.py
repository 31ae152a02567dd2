"""Work the notifier's worker does on every tick for a higher area (the API's event webhooks,
the importer's invitations), so that the worker runs it without importing that area.

A chore is called with the current time inside the worker's app context. It commits its own
work, and a chore that raises is logged and does not stop the others or the worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from app.extensions import db
from app.registry import Registry

log = logging.getLogger("pullfirst.notify")

Chore = Callable[[datetime], None]

CHORES = Registry[Chore]("worker_chores", "work the worker does on every tick for a higher area")


def register_chore(app: Flask, name: str, chore: Chore) -> None:
    """Have the worker call ``chore(now)`` on every tick (at most every 30 seconds)."""
    CHORES.add(app, name, chore)


def run_chores(now: datetime) -> None:
    """Run every registered chore once; one that fails is rolled back and logged."""
    for name, chore in CHORES.named().items():
        try:
            chore(now)
        except Exception:
            db.session.rollback()
            log.exception("worker chore %r failed", name)
