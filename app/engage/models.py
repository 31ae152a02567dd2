"""Tables of the engage area: the actions members took, and what stands behind some of them
(survey responses, code batches and their redemptions, referral links and referrals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class Action(Base):
    """Something a member did, named ``kind:ref`` (or just ``kind``); once per member."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("member_id", "action"),
        Index("ix_actions_action", "action"),
    )


class SurveyResponse(Base):
    """One member's answers to one survey, with the version (content hash) they answered.

    ``answers`` maps each question id to its value: text, a list of options, a number, or None
    for an optional question left blank. Unique per (member, survey).
    """

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    survey: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the member last corrected their answers (from their rewards page).
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("member_id", "survey"),
        Index("ix_survey_responses_survey", "survey", "submitted_at"),
    )


class CodeBatch(Base):
    """A batch of in-store codes, named like ``spring-store``; redeeming one of its codes is the
    action ``code:<name>``. ``expires_at`` None means the codes never expire."""

    __tablename__ = "code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    uses_per_code: Mapped[int] = mapped_column(Integer())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Code(Base):
    """One printed code. Only a keyed hash of it is stored. ``used`` counts redemptions and
    never exceeds ``max_uses``: a redemption raises it with a guarded UPDATE."""

    __tablename__ = "codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batches.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    max_uses: Mapped[int] = mapped_column(Integer())
    used: Mapped[int] = mapped_column(Integer(), default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_codes_batch_id", "batch_id"),)


class Redemption(Base):
    """A member redeemed a code. One per (member, batch): a second code of a batch the member
    already redeemed is refused and stays unused, for someone else."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batches.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("batch_id", "member_id"),
        Index("ix_redemptions_code_id", "code_id"),
        Index("ix_redemptions_member_id", "member_id"),
    )


class ReferralLink(Base):
    """A member's referral link: ``/r/<code>``. One per member."""

    __tablename__ = "referral_links"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


REFERRAL_STATES = ("pending", "credited", "capped")


class Referral(Base):
    """A member (``referred_id``) created through another member's link.

    ``state`` is ``pending`` until the referred member verifies their address, then ``credited``
    (both got the ``referral`` action) or ``capped`` (the referrer had reached the cap). A deleted
    referred member leaves the row with ``referred_id`` NULL, so deleting accounts does not free
    room under the cap.
    """

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    referred_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), unique=True, default=None
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_referrals_referrer_id", "referrer_id", "state"),)
