"""What a message is, and how it becomes RFC 5322 bytes.

Every header value is checked for CR and LF before it is set, so no display name, subject or
address can smuggle in a header of its own. That includes RFC 2047 encoded words
(``=?utf-8?q?=0D=0A?=``): the email package decodes them when a header is set and writes the
decoded line break out as it is, so a value whose encoded words decode to a control character
is refused too, and the finished headers are checked once more.

Errors::

    MailError              a message could not be built or sent
    ├── HeaderInjection    a header value holds CR, LF or NUL
    └── DeliveryFailed     the transport refused or failed (``temporary`` says whether to retry)
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr


class MailError(Exception):
    pass


class HeaderInjection(MailError):
    pass


class DeliveryFailed(MailError):
    """``temporary``: a retry can help. ``recipient_refused``: the server refused the
    recipient's address itself (a hard bounce when not temporary)."""

    def __init__(self, message: str, *, temporary: bool, recipient_refused: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.recipient_refused = recipient_refused


class RelayUnavailable(DeliveryFailed):
    """The relay itself could not take mail (connect, TLS, sign-in, or a refusal of the whole
    connection or sender): no recipient or message was judged, so it says nothing about them."""

    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=True)


# Control characters (tab aside) and every character str.splitlines() breaks on.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# Wider than RFC 2047 on purpose (any charset text, spaces inside): the parser is lenient too.
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([qQbB])\?(.*?)\?=")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Lines up to RFC 5322's hard limit: with the default 78, the email package writes a header
# holding a longer unbreakable token (the URLs of List-Unsubscribe) as RFC 2047 encoded words,
# which mail programs do not decode in a list of URLs, so one-click unsubscribe broke.
POLICY = email.policy.default.clone(max_line_length=998)


def _hides_control(value: str) -> bool:
    """Whether an encoded word in ``value`` decodes to a control character: a control byte
    (whatever the charset) or a forbidden character in its declared charset."""
    for match in _ENCODED_WORD.finditer(value):
        charset, encoding, text = match.groups()
        try:
            if encoding in "qQ":
                raw = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
            else:
                raw = base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if _CONTROL_BYTE.search(raw):
            return True
        try:
            if _FORBIDDEN.search(raw.decode(charset.split("*", 1)[0], "replace")):
                return True
        except LookupError:
            pass
    return False


def clean_header(name: str, value: str) -> str:
    """Return ``value`` if it is safe as a header value; raise :class:`HeaderInjection`."""
    if _FORBIDDEN.search(value) or _FORBIDDEN.search(name) or _hides_control(value):
        raise HeaderInjection(f"header {name!r} holds a line break or control character")
    return value


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name as the recipient sees it, its bytes, its type."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """A message to one recipient: a plain-text part, an optional HTML part, extra headers,
    files attached after the text.

    ``message_id`` may be given (for idempotent resends); otherwise one is made.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    to_name: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


def _address(display_name: str, address: str) -> Address:
    clean_header("address", address)
    clean_header("display name", display_name)
    try:
        local, domain = address.rsplit("@", 1)
    except ValueError:
        raise MailError(f"not an email address: {address!r}") from None
    return Address(display_name=display_name, username=local, domain=domain)


def build(message: Message, sender: str, now: datetime) -> EmailMessage:
    """Turn ``message`` into an :class:`EmailMessage` from ``sender`` (``Name <addr>``)."""
    sender_name, sender_address = parseaddr(sender)
    mail = EmailMessage(policy=POLICY)
    mail["From"] = _address(sender_name, sender_address)
    mail["To"] = _address(message.to_name, message.to)
    mail["Subject"] = clean_header("Subject", message.subject)
    mail["Date"] = format_datetime(now)
    domain = sender_address.rsplit("@", 1)[-1]
    mail["Message-ID"] = clean_header("Message-ID", message.message_id or make_msgid(domain=domain))
    for name, value in message.headers.items():
        mail[clean_header("header name", name)] = clean_header(name, value)
    for name, value in mail.items():  # as the email package parsed them: what it will write
        clean_header(name, str(value))
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        mail.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=clean_header("filename", attachment.filename),
        )
    return mail
