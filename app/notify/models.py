"""Tables of the notifier.

A campaign is a message to one scope. Sending it fills the outbox: one ``deliveries`` row per
(campaign, member, channel), unique. The worker leases due rows, re-runs the gate, sends, and
records the result on the row; the row also carries what the member did with the message
(read, clicked, useful, not for me, replied, unsubscribed). Replies and the marketers' answers
form a conversation per (campaign, member) in ``replies``; every followed link is a ``clicks``
row; every bounce or complaint that came back about a delivery is a ``bounces`` row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.consent.terms import CampaignKind, Channel
from app.database.core import Base
from app.database.types import EnumText, UTCDateTime
from app.notify.states import CampaignState, DeliveryState


class Campaign(Base):
    """A message to one scope, of one kind, on some channels (comma-separated). ``audience``
    holds, as JSON, the gate's counts at the moment the outbox was filled. ``promise_hash`` is
    the SHA-256 of the scope's promise when the campaign was last saved: a campaign is not sent
    under a promise its author did not see. The kind ``transactional`` remains only on
    campaigns sent before every composed message was gated (shown as "sent outside the
    gate"); no campaign can be given it now, and the gate ignores kinds."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text())
    scope: Mapped[str] = mapped_column(String(64))
    kind: Mapped[CampaignKind] = mapped_column(EnumText(CampaignKind, 16))
    channels: Mapped[str] = mapped_column(String(64))
    state: Mapped[CampaignState] = mapped_column(
        EnumText(CampaignState, 16), default=CampaignState.DRAFT
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    source_post: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    audience: Mapped[str | None] = mapped_column(Text(), default=None)
    promise_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # Who among the scope's audience the campaign is for, in the targeting language of
    # :mod:`app.notify.targeting` (None: everyone the gate lets through).
    audience_filter: Mapped[str | None] = mapped_column(Text(), default=None)
    # A digest: one message per member, assembled from ``digest_picks`` (see
    # :mod:`app.notify.digest`) instead of ``body``.
    digest: Mapped[bool] = mapped_column(Boolean(), default=False, server_default="0")

    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')", name="state"
        ),
        CheckConstraint("kind IN ('editorial', 'promotional', 'transactional')", name="kind"),
        Index("ix_campaigns_state_send_at", "state", "send_at"),
    )

    @property
    def channel_list(self) -> list[Channel]:
        return [Channel(c) for c in self.channels.split(",") if c]

    @property
    def ref(self) -> str:
        """The campaign's name in the contact history."""
        return f"campaign-{self.id}"


class Delivery(Base):
    """One campaign to one member on one channel: its place in the outbox and its outcome."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    state: Mapped[DeliveryState] = mapped_column(
        EnumText(DeliveryState, 16), default=DeliveryState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    leased_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    useful_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    not_for_me_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    bounce: Mapped[str | None] = mapped_column(String(120), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    campaign: Mapped[Campaign] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", "channel"),
        CheckConstraint(
            "state IN ('queued', 'leased', 'retry', 'sent', 'suppressed', 'dead', 'cancelled')",
            name="state",
        ),
        Index("ix_deliveries_due", "state", "due_at"),
        Index("ix_deliveries_member", "member_id", "channel", "state"),
        Index("ix_deliveries_campaign", "campaign_id", "state"),
    )

    @property
    def ref(self) -> str:
        """The delivery's unique name in the contact history."""
        return f"delivery-{self.id}"


class Bounce(Base):
    """A bounce or complaint that came back about a delivery, at most one of each kind per
    delivery (so the same report twice counts once). ``address_key`` is the address it was
    about; soft bounces are counted per address. ``summary`` is what the delivery shows, for
    example ``5.1.1 user unknown`` or ``complaint: abuse``."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    address_key: Mapped[str] = mapped_column(String(254))
    summary: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("delivery_id", "kind"),
        CheckConstraint("kind IN ('hard', 'soft', 'complaint')", name="kind"),
        Index("ix_bounces_address", "address_key", "kind", "at"),
    )


class Reply(Base):
    """One message of the conversation about a campaign between a member and the marketers:
    ``author`` is ``member`` or ``marketer``. ``read_at`` is when the member read a marketer's
    answer in the inbox."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), default=None
    )
    author: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Why the team should look at a member's reply first: ``sounds-like-stop`` for words
    # such as "stop texting me" that ask to stop without being a keyword.
    flag: Mapped[str | None] = mapped_column(String(32), default=None)

    __table_args__ = (
        CheckConstraint("author IN ('member', 'marketer')", name="author"),
        Index("ix_replies_thread", "campaign_id", "member_id", "at"),
        Index("ix_replies_member", "member_id", "author", "read_at"),
    )


class Click(Base):
    """A followed link of a delivery."""

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_clicks_delivery", "delivery_id", "at"),)


class NoticeRead(Base):
    """A member opened the notice ``slug`` (a file of ``content/notices/``)."""

    __tablename__ = "notice_reads"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShortLink(Base):
    """A short code in a text (``/s/<code>``) for one address of one delivery: following it
    counts as the member's click, like the long tracked links of email."""

    __tablename__ = "short_links"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_short_links_delivery", "delivery_id"),)


class DigestPick(Base):
    """One article picked for one member's issue of a digest campaign, in order, with the
    sentence that says why it was picked for them."""

    __tablename__ = "digest_picks"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger(), primary_key=True)
    post: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text())

    __table_args__ = (Index("ix_digest_picks_member", "member_id", "campaign_id"),)


class TestSend(Base):
    """A campaign sent as a test to the marketer who asked, by email and to their inbox,
    marked TEST. It is no delivery: it stands outside the audience, the outbox, the funnel,
    the metrics, learning and cadence. ``html`` is the body as it was sent."""

    __tablename__ = "test_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_test_sends_member", "member_id", "sent_at"),)


class AnswerNotice(Base):
    """The short system message that tells a member the team answered their reply: one per
    answer (``reply_id`` is unique), written in the answer's own transaction, sent by the
    worker (or at once by the admin screen) and retried with backoff, so an SMTP outage loses
    nothing. ``channel`` is ``email`` by default; ``telegram`` or ``sms`` when the member wrote
    from there, where the answer itself is forwarded (state ``forwarded``). States: ``queued``,
    ``sent``, ``forwarded``, ``skipped`` (no confirmed address, or the account is gone) and
    ``dead`` (given up after ``NOTIFY_MAX_ATTEMPTS``)."""

    __tablename__ = "answer_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id", ondelete="CASCADE"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)

    __table_args__ = (Index("ix_answer_notices_due", "state", "due_at"),)
