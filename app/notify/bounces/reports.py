"""Reading one returned message into a :class:`Report`: plain bytes in, plain values out.

Three shapes are read:

- a delivery status notification (RFC 3464, ``multipart/report; report-type=delivery-status``):
  per recipient, ``Action: failed`` with a ``5.x.x`` status is a **hard** bounce, a ``4.x.x``
  status or ``Action: delayed`` a **soft** one (a permanent failure about the message rather
  than the mailbox, such as a spam filter's refusal, is soft too: :mod:`.statuses`). The
  strongest verdict over the report's recipients is the report's;
- a feedback report (RFC 5965, ``report-type=feedback-report``) whose ``Feedback-Type`` is
  ``abuse``, ``fraud``, ``virus`` or ``other``: a **complaint**. ``not-spam`` and
  ``auth-failure`` reports are not complaints;
- a plain-text bounce, as some large providers and older mail servers send: a message from
  ``MAILER-DAEMON`` or ``postmaster`` (or with a bounce's subject and the null sender) whose
  text gives an SMTP status code before the copy of the original message.

Anything else (an out-of-office reply, a "delivered" notification) is not a report: ``None``.
A message that cannot be read at all (empty, over :data:`MAX_BYTES`, no header, more than
:data:`MAX_PARTS` parts or :data:`MAX_DEPTH` levels, a report without its status part) raises
:class:`Unreadable`. Every scan is bounded by those limits and :data:`MAX_TEXT`, and every
pattern is linear, so no message can hold the reader for long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import parseaddr

from app.notify.bounces.statuses import (
    Kind,
    find_status,
    kind_of,
    rank,
    status_in,
    status_of,
    summary,
)

MAX_BYTES = 1024 * 1024
MAX_PARTS = 64
MAX_DEPTH = 8
MAX_TEXT = 64 * 1024

COMPLAINT_TYPES = ("abuse", "fraud", "virus", "other")
STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
FEEDBACK_PART = "message/feedback-report"
ORIGINAL_PARTS = ("message/rfc822", "message/global")
ORIGINAL_HEADER_PARTS = ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers")
DAEMONS = ("mailer-daemon", "mailer_daemon", "mail-daemon", "maildaemon", "postmaster")
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|could not be delivered|delivery status notification"
    r"|delivery failure|delivery has failed|delivery failed|failure notice|returned mail"
    r"|mail delivery failed|nondeliverable|non-delivery",
    re.IGNORECASE,
)

# Where the copy of the original message starts in a plain-text bounce.
_ORIGINAL_START = re.compile(
    r"^(?:received|return-path|dkim-signature|message-id|mime-version|x-pullfirst-delivery"
    r"|list-unsubscribe):",
    re.IGNORECASE | re.MULTILINE,
)
_MESSAGE_ID = re.compile(r"^message-id:[ \t]*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_RETURN_PATH = re.compile(r"^return-path:[ \t]*<?([^<>\s]{1,300})>?", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}"
    r"(?:\.[A-Za-z0-9-]{1,63}){1,8}"
)
_TAG = re.compile(r"<[^<>]{0,2000}>")


class Unreadable(Exception):
    """The message cannot be read as mail at all."""


@dataclass(frozen=True)
class Report:
    """What a returned message says.

    ``summary`` is the short text a delivery shows (``5.1.1 user unknown``, ``complaint:
    abuse``); ``diagnostic`` the remote server's own words on one line, for the log.
    ``recipients`` are the addresses the report says it is about; ``senders`` the envelope
    senders of the original message it names (where a VERP address may be found);
    ``message_ids`` the original's Message-IDs."""

    kind: Kind
    status: str
    summary: str
    diagnostic: str = ""
    recipients: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()


def read_report(raw: bytes, null_sender: bool | None = None) -> Report | None:
    """Read ``raw`` (a whole message). ``null_sender`` says whether it came with the null
    envelope sender (``MAIL FROM:<>``); None reads the ``Return-Path`` header instead.

    Returns None for a message that is not a bounce or complaint; raises :class:`Unreadable`.
    """
    message = _parse(raw)
    parts = _parts(message)
    types = [part.get_content_type() for part in parts]
    status_part = next((p for p, t in zip(parts, types, strict=True) if t in STATUS_PARTS), None)
    if status_part is not None:
        return _read_status(parts, status_part)
    feedback = next((p for p, t in zip(parts, types, strict=True) if t == FEEDBACK_PART), None)
    if feedback is not None:
        return _read_feedback(parts, feedback)
    if _report_type(message) in ("delivery-status", "feedback-report"):
        raise Unreadable("a report without its status part")
    if null_sender is None:
        null_sender = _header(message, "Return-Path").strip() == "<>"
    if not _looks_like_bounce(message, null_sender):
        return None
    return _read_plain(parts)


# --- the message and its parts ----------------------------------------------------------------


def _parse(raw: bytes) -> Message:
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise Unreadable("an empty message")
    if len(raw) > MAX_BYTES:
        raise Unreadable(f"larger than {MAX_BYTES} bytes")
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(bytes(raw))
    except Exception as exc:  # RecursionError too: nesting deeper than the parser goes
        raise Unreadable(f"not a mail message: {type(exc).__name__}") from None
    if not message.keys():
        raise Unreadable("no header")
    return message


def _parts(message: Message) -> list[Message]:
    """Every part, depth first, without entering a returned message or a status part."""
    found: list[Message] = []
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Unreadable(f"nested deeper than {MAX_DEPTH} levels")
        found.append(part)
        if len(found) > MAX_PARTS:
            raise Unreadable(f"more than {MAX_PARTS} parts")
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            children = part.get_payload()
            assert isinstance(children, list)
            stack.extend(
                (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
            )
    return found


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser could not decode reads as empty
        return ""
    return " ".join(str(value).split())[:2000] if value is not None else ""


def _report_type(message: Message) -> str:
    value = message.get_param("report-type", header="content-type")
    return value.lower() if isinstance(value, str) else ""


def _text_of(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload[:MAX_TEXT].decode(charset, errors="replace")
    except LookupError:
        text = payload[:MAX_TEXT].decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = _TAG.sub(" ", text)
    return text


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The groups of ``Name: value`` fields of a status or feedback part, in order."""
    blocks: list[dict[str, str]] = []
    payload = part.get_payload()
    texts: list[str] = []
    if isinstance(payload, list):
        for block in payload[:MAX_PARTS]:
            if isinstance(block, Message):
                blocks.append({k.lower(): _header(block, k) for k in block})
                rest = block.get_payload()
                if isinstance(rest, str) and rest.strip():
                    texts.append(rest[:MAX_TEXT])
    elif isinstance(payload, str):
        texts.append(payload[:MAX_TEXT])
    for text in texts:
        for chunk in re.split(r"\r?\n[ \t]*\r?\n", text)[:MAX_PARTS]:
            if chunk.strip():
                fields = HeaderParser(policy=policy.compat32).parsestr(chunk.strip() + "\n")
                blocks.append({k.lower(): _header(fields, k) for k in fields})
    return [b for b in blocks if b]


@dataclass(frozen=True)
class _Original:
    message_ids: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


def _original(parts: list[Message]) -> _Original:
    """The headers of the returned original message, when the report carries them."""
    for part in parts:
        kind = part.get_content_type()
        headers: Message | None = None
        if kind in ORIGINAL_PARTS:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                headers = inner[0]
            elif isinstance(inner, str):
                headers = HeaderParser(policy=policy.compat32).parsestr(inner[:MAX_TEXT])
        elif kind in ORIGINAL_HEADER_PARTS:
            headers = HeaderParser(policy=policy.compat32).parsestr(_text_of(part))
        if headers is not None:
            return _Original(
                _values(_header(headers, "Message-ID")),
                _values(_header(headers, "Return-Path")),
                _values(_header(headers, "To")),
            )
    return _Original()


def _values(*texts: str) -> tuple[str, ...]:
    return tuple(t for t in texts if t)


def _address(field: str) -> str:
    """The address of a ``rfc822; user@example.com`` field (or a bare or bracketed one)."""
    value = field.split(";", 1)[1] if ";" in field else field
    return value.strip().strip("<>").strip()


# --- delivery status notifications ------------------------------------------------------------


def _read_status(parts: list[Message], status_part: Message) -> Report | None:
    blocks = _field_blocks(status_part)
    recipients = [b for b in blocks if "action" in b or "final-recipient" in b or "status" in b]
    if not recipients:
        plain = _read_plain(parts)
        if plain is None:
            raise Unreadable("a delivery status notification without a recipient")
        return plain
    worst: tuple[Kind, str, str] | None = None
    named: list[str] = []
    for block in recipients:
        verdict = _recipient_verdict(block)
        named.extend(
            a
            for a in (
                _address(block.get("original-recipient", "")),
                _address(block.get("final-recipient", "")),
            )
            if a
        )
        if verdict is not None and (worst is None or rank(verdict[0]) > rank(worst[0])):
            worst = verdict
    if worst is None:
        return None  # delivered, relayed or expanded: nothing came back
    kind, status, diagnostic = worst
    original = _original(parts)
    extra_ids = tuple(b["x-original-message-id"] for b in blocks if "x-original-message-id" in b)
    return Report(
        kind,
        status,
        summary(status),
        diagnostic,
        tuple(named),
        original.senders,
        original.message_ids + extra_ids,
    )


def _recipient_verdict(block: dict[str, str]) -> tuple[Kind, str, str] | None:
    action = block.get("action", "").split(" ", 1)[0].lower()
    diagnostic = _one_line(block.get("diagnostic-code", ""))
    status = status_of(block.get("status", "")) or status_in(diagnostic)
    if action in ("delivered", "relayed", "expanded") or (status or "").startswith("2."):
        return None
    if action == "delayed":
        return Kind.SOFT, status if status and status[0] == "4" else "4.0.0", diagnostic
    if action != "failed" and status is None:
        return None
    status = status or "5.0.0"
    return kind_of(status), status, diagnostic


def _one_line(text: str) -> str:
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:300]


# --- feedback reports -------------------------------------------------------------------------


def _read_feedback(parts: list[Message], feedback: Message) -> Report | None:
    blocks = _field_blocks(feedback)
    fields = blocks[0] if blocks else {}
    if not fields:
        raise Unreadable("a feedback report without its fields")
    kind = fields.get("feedback-type", "").split(" ", 1)[0].lower()
    if kind not in COMPLAINT_TYPES:
        return None
    original = _original(parts)
    senders = _values(_address(fields.get("original-mail-from", ""))) + original.senders
    recipients = (
        _values(
            _address(fields.get("original-rcpt-to", "")),
            _address(fields.get("removal-recipient", "")),
        )
        + original.recipients
    )
    return Report(
        Kind.COMPLAINT,
        "",
        f"complaint: {kind}",
        _one_line(fields.get("user-agent", "")),
        recipients,
        senders,
        original.message_ids,
    )


# --- plain-text bounces -----------------------------------------------------------------------


def _looks_like_bounce(message: Message, null_sender: bool) -> bool:
    sender = parseaddr(_header(message, "From"))[1].lower()
    local = sender.rsplit("@", 1)[0]
    if local in DAEMONS or local.startswith("mailer-daemon"):
        return True
    return null_sender and BOUNCE_SUBJECT.search(_header(message, "Subject")) is not None


def _read_plain(parts: list[Message]) -> Report | None:
    texts = [_text_of(p) for p in parts if p.get_content_type() in ("text/plain", "text/html")]
    text = "\n".join(t for t in texts if t)[:MAX_TEXT]
    start = _ORIGINAL_START.search(text)
    said, copy = (text[: start.start()], text[start.start() :]) if start else (text, "")
    found = find_status(said)
    if found is None:
        return None
    status, at = found
    original = _original(parts)
    message_ids = original.message_ids + tuple(_MESSAGE_ID.findall(copy))
    senders = original.senders + tuple(_RETURN_PATH.findall(copy))
    recipients = original.recipients + tuple(dict.fromkeys(_ADDRESS.findall(said)))[:20]
    line_start = said.rfind("\n", 0, at) + 1
    line_end = said.find("\n", at)
    diagnostic = _one_line(said[line_start : line_end if line_end != -1 else None])
    return Report(
        kind_of(status), status, summary(status), diagnostic, recipients, senders, message_ids
    )
