"""Work the notifier's worker does for a higher area (the API's event webhooks, the importer's
invitations), so that the worker runs it without importing that area.

A chore runs on every tick (at most every 30 seconds). A *prompt* chore, for work someone waits
for (an event webhook a CRM expects within seconds), also runs each time the worker finds its
queue empty, before it waits :data:`NOTIFY_POLL_SECONDS`; a worker busy with a campaign keeps to
its batches and runs it on the tick. A chore is called with the current time inside the worker's
app context. It commits its own work, and a chore that raises is logged and does not stop the
others or the worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from app.extensions import db
from app.registry import Registry

log = logging.getLogger("pullfirst.notify")

Chore = Callable[[datetime], None]


@dataclass(frozen=True)
class WorkerChore:
    run: Chore
    prompt: bool = False


CHORES = Registry[WorkerChore](
    "worker_chores",
    "work the worker does on every tick for a higher area, and when idle for a prompt one",
)


def register_chore(app: Flask, name: str, chore: Chore, *, prompt: bool = False) -> None:
    """Have the worker call ``chore(now)`` on every tick (at most every 30 seconds) and, with
    ``prompt``, also whenever it finds nothing to deliver (every ``NOTIFY_POLL_SECONDS``)."""
    CHORES.add(app, name, WorkerChore(chore, prompt))


def run_chores(now: datetime, *, prompt_only: bool = False) -> None:
    """Run every registered chore (with ``prompt_only``, the prompt ones) once; one that fails is
    rolled back and logged."""
    for name, chore in CHORES.named().items():
        if prompt_only and not chore.prompt:
            continue
        try:
            chore.run(now)
        except Exception:
            db.session.rollback()
            log.exception("worker chore %r failed", name)
