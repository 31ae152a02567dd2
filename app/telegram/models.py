"""Tables of the telegram area: the sticker sets the bot made for members.

``telegram_sticker_sets`` holds one row per member and pack: the set's name (kept, so a tap
finds the same set even if the way names are made changes) and the Telegram account that owns
it. ``telegram_set_stickers`` says which sticker of the set is which sticker of the pack: the
pack sticker's fingerprint (its Telegram WebP and emoji) and the ``file_unique_id`` Telegram
gave it, which stays the same for as long as the sticker exists (``file_id``s may change).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class TelegramStickerSet(Base):
    """The member's copy of a pack in Telegram, ``https://t.me/addstickers/<name>``."""

    __tablename__ = "telegram_sticker_sets"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    pack: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(BigInteger())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelegramSetSticker(Base):
    """One sticker of a member's set: which pack sticker it is (``fingerprint``) and how
    Telegram knows it (``file_unique_id``)."""

    __tablename__ = "telegram_set_stickers"

    member_id: Mapped[int] = mapped_column(primary_key=True)
    pack: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_unique_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        ForeignKeyConstraint(
            ["member_id", "pack"],
            ["telegram_sticker_sets.member_id", "telegram_sticker_sets.pack"],
            ondelete="CASCADE",
        ),
    )
