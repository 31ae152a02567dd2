"""The operator's tables: one heartbeat row per running notifier worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class WorkerBeat(Base):
    """The last moment a worker (named ``host:pid:random``, or ``serve``) said it was alive."""

    __tablename__ = "worker_beats"

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
