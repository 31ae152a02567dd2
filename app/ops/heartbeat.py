"""Workers' heartbeats: each worker writes its row every housekeeping tick (about every 30
seconds), and readiness and metrics read how old the newest one is.

Rows of workers that stopped are kept for :data:`KEPT` so that metrics show them going stale,
then dropped by the next beat of any worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from app.extensions import db
from app.ops.models import WorkerBeat

KEPT = timedelta(days=1)


def beat(worker: str, now: datetime) -> None:
    """Record that ``worker`` is alive at ``now``. The caller commits."""
    row = db.session.get(WorkerBeat, worker)
    if row is None:
        db.session.add(WorkerBeat(worker=worker, started_at=now, beat_at=now))
    else:
        row.beat_at = now
    db.session.execute(delete(WorkerBeat).where(WorkerBeat.beat_at < now - KEPT))


def newest_beat() -> datetime | None:
    """When any worker last said it was alive, or None when none ever did (or for a day)."""
    moment: datetime | None = db.session.scalar(select(func.max(WorkerBeat.beat_at)))
    return moment


def beat_ages(now: datetime) -> dict[str, float]:
    """Seconds since each known worker's last heartbeat, by worker name."""
    rows = db.session.execute(
        select(WorkerBeat.worker, WorkerBeat.beat_at).order_by(WorkerBeat.worker)
    )
    return {worker: max(0.0, (now - beat_at).total_seconds()) for worker, beat_at in rows}
