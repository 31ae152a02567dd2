"""Channels: how a delivery reaches a member. Each is one small object with the same contract.

``send(item)`` delivers one :class:`Outgoing` and returns the id the receiver knows it by (the
email Message-ID, the webhook-id, the inbox delivery id), or raises
:class:`~app.notify.errors.SendFailed` (``temporary`` tells the worker whether to retry) or its
subclass :class:`~app.notify.errors.EndpointGone`. ``close()`` releases what a batch held open
(the SMTP connection). Both ids are derived from the delivery id, so a retry sends the same id
and the receiver can tell a duplicate.

The worker builds channels with :func:`open_channels`, or with the factory it is given (tests
give their own I/O that way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from flask import current_app

from app.consent.terms import Channel
from app.notify.render import Body, PreparedBody
from app.outbound.webpush import Subscription


@dataclass(frozen=True)
class Endpoint:
    """A member's verified, enabled webhook endpoint, read with the gate's facts."""

    id: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outgoing:
    """Everything a channel needs to send one delivery. The body is the campaign's, prepared
    once; ``html`` and ``text`` fill in this delivery's tracked links when first read (the
    email channel fills its own prepared message instead)."""

    delivery_id: int
    campaign_id: int
    kind: str
    scope: str
    scope_title: str
    promise: str
    member_id: int
    email: str
    display_name: str
    title: str
    body: PreparedBody
    unsubscribe_url: str
    why_url: str
    inbox_url: str
    open_url: str | None = None
    endpoints: tuple[Endpoint, ...] = ()  # webhook: where to send, read before the send
    chat_id: int | None = None  # telegram: the member's linked chat
    phone: str | None = None  # sms: the member's proven number (E.164)
    push_targets: tuple[Subscription, ...] = ()  # push: the browsers that allowed it

    @cached_property
    def filled(self) -> Body:
        return self.body.fill(self.delivery_id)

    @property
    def html(self) -> str:
        return self.filled.html

    @property
    def text(self) -> str:
        return self.filled.text


class Sender(Protocol):
    """What sends on one channel; ``name`` is the channel it sends on."""

    name: Channel

    def send(self, item: Outgoing) -> str:
        """Deliver ``item``; return the receiver's id for it, or raise ``SendFailed``."""

    def close(self) -> None:
        """Release what the channel holds open."""


class InboxChannel:
    """The member's inbox on the site: the delivery row is the message, so sending only
    makes it visible (the worker marks it sent)."""

    name = Channel.INBOX

    def send(self, item: Outgoing) -> str:
        return str(item.delivery_id)

    def close(self) -> None:
        pass


def message_id(delivery_id: int, domain: str) -> str:
    """The email Message-ID of a delivery: the same on every attempt."""
    return f"<delivery-{delivery_id}@{domain}>"


def webhook_id(delivery_id: int) -> str:
    """The Standard Webhooks ``webhook-id`` of a delivery: the same on every attempt."""
    return f"msg_delivery_{delivery_id}"


ChannelFactory = Callable[[], dict[str, Sender]]


def open_channels() -> dict[str, Sender]:
    """The channels of this app: inbox, email over ``MAIL_URL``, webhooks, browser
    notifications, Telegram when the bot has a token, and text messages when Kannel is set."""
    from app.consent import push, texts
    from app.mail.transport import transport_for
    from app.notify.email import EmailChannel
    from app.notify.push import PushChannel
    from app.notify.sms import SmsChannel
    from app.notify.telegram import Pacer, TelegramChannel
    from app.notify.webhook import WebhookChannel
    from app.outbound.botapi import BotApi
    from app.outbound.webpush import PushSender

    config = current_app.config
    transport = transport_for(config["MAIL_URL"], current_app.instance_path)
    channels: dict[str, Sender] = {
        Channel.INBOX: InboxChannel(),
        Channel.EMAIL: EmailChannel(transport, config["MAIL_FROM"]),
        Channel.WEBHOOK: WebhookChannel(allow_loopback=bool(config["WEBHOOK_ALLOW_LOOPBACK"])),
    }
    if config["TELEGRAM_BOT_TOKEN"]:
        api = BotApi(config["TELEGRAM_BOT_TOKEN"], config["TELEGRAM_API_BASE"])
        pacer = Pacer(float(config["TELEGRAM_MESSAGES_PER_SECOND"]))
        channels[Channel.TELEGRAM] = TelegramChannel(api, pacer)
    gateway = texts.gateway()
    if gateway is not None:
        channels[Channel.SMS] = SmsChannel(gateway)
    channels[Channel.PUSH] = PushChannel(PushSender(push.keys(), push.subject()))
    return channels
