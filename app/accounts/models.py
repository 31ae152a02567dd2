"""Tables of the accounts area: members, their sign-ins, and used single-use tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime

ROLES = ("member", "editor", "marketer", "admin")


class Member(Base):
    """A person with an account. ``email_key`` (the case-folded address) is unique.

    A member without a password subscribed before setting one and signs in by magic link.
    """

    __tablename__ = "members"
    __allow_unmapped__ = True  # for sign_in_key below

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    # Set by the user loader: the sign-in this request belongs to. Not a column.
    sign_in_key: str | None = None

    # --- the interface Flask-Login expects ---
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """``<member id>.<sign-in key>``: stored in the session and the remember cookie, so
        revoking the sign-in (sign-out, password change) makes both worthless."""
        if self.sign_in_key is None:
            raise RuntimeError("member has no sign-in; use accounts.sessions.start_sign_in")
        return f"{self.id}.{self.sign_in_key}"

    # --- convenience for templates ---
    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    def has_role(self, role: str) -> bool:
        """Admins hold every role; editors and marketers hold their own and ``member``."""
        return self.role == "admin" or self.role == role or role == "member"


class SignIn(Base):
    """One signed-in browser. Only a hash of its key is stored."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_sign_ins_member_id", "member_id"),)


class TokenUse(Base):
    """The id of every single-use token that has been used, so a second use is refused."""

    __tablename__ = "token_uses"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
