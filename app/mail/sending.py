"""The one place that sends a message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from app import clock
from app.mail.message import Message, build
from app.mail.transport import Transport, transport_for


@contextmanager
def open_transport() -> Iterator[Transport]:
    """A transport for the configured ``MAIL_URL``, closed on exit; reuse it for a batch."""
    transport = transport_for(current_app.config["MAIL_URL"], current_app.instance_path)
    try:
        yield transport
    finally:
        transport.close()


def send_message(message: Message, transport: Transport | None = None) -> str:
    """Send ``message`` from ``MAIL_FROM`` and return its Message-ID.

    Raises :class:`~app.mail.message.HeaderInjection` for unsafe header values and
    :class:`~app.mail.message.DeliveryFailed` when the transport fails.
    """
    mail = build(message, current_app.config["MAIL_FROM"], clock.now())
    if transport is not None:
        transport.send(mail)
    else:
        with open_transport() as own:
            own.send(mail)
    return str(mail["Message-ID"])
