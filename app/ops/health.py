"""Readiness: can this process serve members right now?

Three checks, in order, each ``pass``, ``fail`` or ``skip`` with a short detail:

- ``database``: a connection opens and answers ``SELECT 1``;
- ``migrations``: the schema is at the head revision of this code;
- ``worker``: some notifier worker wrote a heartbeat less than ``READY_WORKER_MAX_AGE`` seconds
  ago (skipped when that setting is 0).

A check that cannot run because an earlier one failed is skipped. Details never carry the
database's address or the driver's message (the endpoint is public); the log has them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.database.diagnosis import one_line
from app.ops.models import WorkerBeat

log = logging.getLogger("pullfirst.ops")

Status = Literal["pass", "fail", "skip"]
CHECKS = ("database", "migrations", "worker")


@dataclass(frozen=True)
class Check:
    status: Status
    detail: str


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(check.status != "fail" for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if check.status == "fail"]

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "unready",
            "failed": self.failed,
            "checks": {
                name: {"status": c.status, "detail": c.detail} for name, c in self.checks.items()
            },
        }


def _migrations(connection: Connection, head: str | None) -> Check:
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return Check("fail", f"the database has no schema yet (head is {head})")
    if current != head:
        return Check("fail", f"at revision {current}, this code needs {head}")
    return Check("pass", f"at {current}")


def _worker(connection: Connection, now: datetime, max_age: int) -> Check:
    if max_age == 0:
        return Check("skip", "READY_WORKER_MAX_AGE is 0")
    newest: datetime | None = connection.scalar(select(func.max(WorkerBeat.beat_at)))
    if newest is None:
        return Check("fail", "no notifier worker has reported yet")
    age = max(0.0, (now - newest).total_seconds())
    if age > max_age:
        return Check("fail", f"newest heartbeat {age:.0f} s ago, more than {max_age} s")
    return Check("pass", f"newest heartbeat {age:.0f} s ago")


def readiness(engine: Engine, head: str | None, now: datetime, worker_max_age: int) -> Readiness:
    """Run the checks above against ``engine``, whose schema should be at ``head``."""
    result = Readiness()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            result.checks["database"] = Check("pass", "answers")
            result.checks["migrations"] = _migrations(connection, head)
            if result.ready:
                result.checks["worker"] = _worker(connection, now, worker_max_age)
    except SQLAlchemyError as exc:
        failing = next((name for name in CHECKS if name not in result.checks), "database")
        log.warning(
            "readiness: %s check failed: %s", failing, one_line(getattr(exc, "orig", None) or exc)
        )
        result.checks[failing] = Check(
            "fail", "cannot connect" if failing == "database" else "the check failed (see the log)"
        )
    for name in CHECKS:
        result.checks.setdefault(name, Check("skip", "an earlier check failed"))
    return result
