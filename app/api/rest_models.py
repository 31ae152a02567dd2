"""The tables of the API keys and idempotent requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class ApiKey(Base):
    """A key a till or a CRM sends as ``Authorization: Bearer <key>``. Only the SHA-256 of the
    key is kept (``key_hash``); ``prefix`` is the visible start of the key that tells keys
    apart. ``permissions`` is a comma-separated subset of :class:`app.api.keys.Permission`;
    ``rate_limit`` is requests per minute. A revoked key stays listed, and answers 401."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[str] = mapped_column(String(200))
    rate_limit: Mapped[int] = mapped_column(Integer())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def permission_list(self) -> list[str]:
        return [p for p in self.permissions.split(",") if p]


class ApiIdempotency(Base):
    """One request made with an ``Idempotency-Key``: claimed before the work (``status`` None
    while in flight), then completed with the answer's status and its body, encrypted
    (AES-GCM under a key derived from ``SECRET_KEY``), so a retry gets the same answer.
    Rows are deleted 24 hours after ``created_at``."""

    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer(), default=None)
    response: Mapped[bytes | None] = mapped_column(LargeBinary(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("key_id", "idempotency_key"),
        Index("ix_api_idempotency_created_at", "created_at"),
    )
