"""Tables of the consent area.

The ledger is ``consent_events``: append-only, never updated or deleted (the database refuses both
with triggers, see migration 0004). Its rows point at a ``consent_subjects`` row, which holds the
link to the member and the salt of the client hashes; deleting a member clears that link and the
salt, so the events stay but point at no one. ``consent_states`` is derived from the ledger (the
latest event per member, scope and channel) and kept in the same transaction, for fast queries.

The other tables hold the facts the gate reads: preferences (pause, quiet hours), per-scope pauses
("not for me", resume), the contact history (what was sent, what was engaged with), suppressed
addresses and webhook endpoints; and the pending double opt-in requests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.orm import Mapped, mapped_column

from app.consent.terms import CampaignKind, Channel, SuppressionReason
from app.database.core import Base
from app.database.types import EnumText, UTCDateTime


class ConsentSubject(Base):
    """Whom ledger events are about. ``member_id`` and ``salt`` are cleared when the member is
    deleted (pseudonymisation); the row itself is never deleted."""

    __tablename__ = "consent_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), unique=True, default=None
    )
    salt: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ConsentEvent(Base):
    """One grant or revoke of (subject, scope, channel): the exact wording shown, its version
    and hash, when, where (``source`` and ``page``), and a salted hash of the IP and user agent.
    ``receipt`` is the public id of the event's consent receipt."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("consent_subjects.id"))
    scope: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    action: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(300), default=None)
    wording: Mapped[str] = mapped_column(Text())
    wording_version: Mapped[int] = mapped_column(Integer())
    wording_hash: Mapped[str] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    typed: Mapped[str | None] = mapped_column(Text(), default=None)  # a keyword, as texted

    __table_args__ = (
        CheckConstraint("action IN ('grant', 'revoke')", name="action"),
        Index("ix_consent_events_subject", "subject_id", "scope", "channel", "id"),
    )


class ConsentState(Base):
    """The latest ledger event per (member, scope, channel), derived and kept in step, with
    the version and SHA-256 of the words of that event."""

    __tablename__ = "consent_states"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean())
    wording_version: Mapped[int] = mapped_column(Integer())
    wording_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))

    __table_args__ = (
        Index("ix_consent_states_scope", "scope", "channel", "granted", "wording_version"),
    )


class ConsentPreferences(Base):
    """A member's pause of everything and quiet hours (minutes after local midnight)."""

    __tablename__ = "consent_preferences"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger(), default=None)
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScopePause(Base):
    """Per (member, scope): an active "not for me" (cleared when the member engages again or
    resumes) and the last resume, before which ignored deliveries no longer count."""

    __tablename__ = "scope_pauses"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    not_for_me_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When the one "still want this?" message after an ignored-messages pause was sent.
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Contact(Base):
    """One message delivered to a member (the notifier's delivery, by its unique ``ref``).

    ``engaged_at`` is when the member first engaged with the campaign on any channel (click,
    inbox read, reply, "useful"); it is set on every delivery of that campaign to the member.
    ``last_engaged_at`` is the latest such engagement.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    campaign: Mapped[str] = mapped_column(String(64))
    kind: Mapped[CampaignKind] = mapped_column(EnumText(CampaignKind, 16))
    ref: Mapped[str] = mapped_column(String(128), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    engaged_how: Mapped[str | None] = mapped_column(String(16), default=None)

    # The first two cover every column the gate reads, so its queries never visit the table.
    __table_args__ = (
        Index(
            "ix_contacts_member_scope",
            "member_id",
            "scope",
            "sent_at",
            "kind",
            "engaged_at",
            "campaign",
            "last_engaged_at",
        ),
        Index("ix_contacts_member_recent", "member_id", "sent_at", "scope", "kind", "campaign"),
        Index("ix_contacts_member_campaign", "member_id", "campaign"),
    )


class Suppression(Base):
    """An email address we must not send gated mail to (hard bounce, complaint)."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(EnumText(SuppressionReason, 32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    """A member's HTTPS endpoint for the webhook channel, with its own signing secret.

    It receives messages once ``verified_at`` is set (the signed challenge was answered) and
    while ``disabled_at`` is empty (the notifier disables endpoints that are gone)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        UniqueConstraint("member_id", "url"),
        Index("ix_webhook_endpoints_url", "url"),
    )


class SubscriptionRequest(Base):
    """A double opt-in request: an address asked for a scope with this wording, on this form.
    Confirmed by the link mailed to the address, or dropped after seven days."""

    __tablename__ = "subscription_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    wording: Mapped[str] = mapped_column(Text())
    wording_version: Mapped[int] = mapped_column(Integer())
    source: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(300), default=None)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (UniqueConstraint("email_key", "scope"),)


class ConfirmationMail(Base):
    """When a confirmation mail last went to an address: at most one per ten minutes."""

    __tablename__ = "confirmation_mails"

    email_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelegramChat(Base):
    """The Telegram chat a member linked with the bot: where the ``telegram`` channel sends.

    One chat per member and one member per chat. ``blocked_at`` is set when Telegram answers
    that the member blocked the bot (403); a new link clears it."""

    __tablename__ = "telegram_chats"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger(), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), default=None)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TelegramLinkToken(Base):
    """A one-time link from the permissions page to the bot (``t.me/<bot>?start=<token>``).
    Only the SHA-256 of the token is kept; it links once, within ``expires_at``."""

    __tablename__ = "telegram_link_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_telegram_link_tokens_member", "member_id"),)


class TelegramUpdate(Base):
    """Each Bot API update handled, by its ``update_id``: Telegram delivers an update again
    when an answer is lost, and the bot must not act on it twice."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PhoneNumber(Base):
    """A member's proven mobile number (E.164): where the ``sms`` channel sends.

    One number per member and one member per number; a number is written here only once its
    one-time code was typed back (:class:`PhoneProof`)."""

    __tablename__ = "phone_numbers"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(16), unique=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PhoneProof(Base):
    """The one-time code last texted to prove a number: only its keyed hash is kept, it
    expires, and a few wrong tries void it."""

    __tablename__ = "phone_proofs"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(SmallInteger(), default=0)


class PhoneCodeSent(Base):
    """Each one-time code texted, for the limits per number, per member and per client."""

    __tablename__ = "phone_codes_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    client_key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_phone_codes_sent_number", "number", "sent_at"),
        Index("ix_phone_codes_sent_member", "member_id", "sent_at"),
        Index("ix_phone_codes_sent_client", "client_key", "sent_at"),
    )


class PushSubscription(Base):
    """A browser's Web Push subscription: where the ``push`` channel sends.

    A member has one per browser they allowed. ``disabled_at`` is set when the push service
    answers that the subscription is gone (the member turned notifications off there)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    browser: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_push_subscriptions_member", "member_id"),)


class SmsMessage(Base):
    """One text in or out. ``direction`` is ``in`` or ``out``; ``kind`` says what it was
    (``keyword``, ``reply``, ``unread`` for an inbound text that matched nothing, and ``code``,
    ``confirmation``, ``answer`` for system texts). ``state`` of a system text is ``queued``
    until the gateway took it, then ``sent``, ``delivered`` or ``failed`` from the delivery
    reports; inbound texts are ``received``."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16))
    keyword: Mapped[str | None] = mapped_column(String(16), default=None)
    text: Mapped[str] = mapped_column(Text())
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    # Kannel's id of an inbound text (%I): a text Kannel passes on twice is acted on once.
    gateway_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        Index("ix_sms_messages_number", "number", "at"),
        Index("ix_sms_messages_member", "member_id", "at"),
        Index("ix_sms_messages_state", "direction", "state", "at"),
    )
