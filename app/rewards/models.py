"""Tables of the rewards area: what each member earned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class Entitlement(Base):
    """A member earned a reward (``pack:<slug>`` or ``scope:<slug>``); once per member."""

    __tablename__ = "entitlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward: Mapped[str] = mapped_column(String(120))
    earned_by: Mapped[str] = mapped_column(String(120))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("member_id", "reward"),
        Index("ix_entitlements_reward", "reward"),
    )
