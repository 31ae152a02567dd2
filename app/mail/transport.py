"""Where messages go: a folder of ``.eml`` files (the default) or an SMTP server.

A transport is anything with ``send(mail)``, ``send_bytes(data, ...)`` (a message already written
out, with CRLF line ends, as the notifier fills it) and ``close()``. One transport may send many
messages:
the SMTP transport keeps its connection open until ``close()``, reconnecting once when the server
dropped it. Failures raise :class:`~app.mail.message.DeliveryFailed`, whose ``temporary`` flag tells
a caller whether a retry can help (4xx replies and network errors) or not (5xx replies).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from app.mail.message import DeliveryFailed, RelayUnavailable

log = logging.getLogger("pullfirst.mail")

SMTP_TIMEOUT_SECONDS = 10


class Transport(Protocol):
    def send(self, mail: EmailMessage, envelope_from: str | None = None) -> None:
        """Deliver ``mail`` or raise :class:`DeliveryFailed`. ``envelope_from`` is the SMTP
        envelope sender (where bounces go); None uses the mail's ``From`` address."""

    def send_bytes(
        self, data: bytes, *, envelope_from: str, to: str, message_id: str, eight_bit: bool = False
    ) -> None:
        """Deliver ``data``, a whole message with CRLF line ends, to ``to``; ``eight_bit``
        says it holds 8-bit text (declared as ``BODY=8BITMIME`` where the server offers it).
        Raises as :meth:`send`."""

    def close(self) -> None:
        """Release any connection; the transport may not be used afterwards."""


class FolderTransport:
    """Writes each message as ``<folder>/<sortable time>-<id>.eml`` and logs one line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, mail: EmailMessage, envelope_from: str | None = None) -> None:
        message_id = str(mail["Message-ID"]).strip("<>")
        # A mailbox records the envelope sender as Return-Path; the folder does the same.
        return_path = (
            f"Return-Path: <{envelope_from}>{mail.policy.linesep}".encode()
            if envelope_from
            else b""
        )
        target = self._write(message_id, return_path + mail.as_bytes())
        log.info("mail to=%s subject=%r file=%s", mail["To"], str(mail["Subject"]), target)

    def send_bytes(
        self, data: bytes, *, envelope_from: str, to: str, message_id: str, eight_bit: bool = False
    ) -> None:
        target = self._write(
            message_id.strip("<>"), f"Return-Path: <{envelope_from}>\r\n".encode() + data
        )
        log.info("mail to=%s id=%s file=%s", to, message_id, target)

    def _write(self, message_id: str, data: bytes) -> Path:
        safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in message_id)[:80]
        target = self.folder / f"{time.time_ns():020d}-{safe_id}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(data)
        temporary.replace(target)
        return target

    def close(self) -> None:
        pass


class SMTPTransport:
    """Sends over ``smtp://``, ``smtp+starttls://`` or ``smtps://``, reusing one connection."""

    def __init__(self, url: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        self.port = parts.port or default_port
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        # Loading the system's certificates takes tens of milliseconds: only for TLS.
        context = ssl.create_default_context() if self.scheme != "smtp" else None
        smtp: smtplib.SMTP
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, mail: EmailMessage, envelope_from: str | None = None) -> None:
        self._submit(lambda smtp: smtp.send_message(mail, from_addr=envelope_from))
        log.info("mail to=%s subject=%r via=%s", mail["To"], str(mail["Subject"]), self.host)

    def send_bytes(
        self, data: bytes, *, envelope_from: str, to: str, message_id: str, eight_bit: bool = False
    ) -> None:
        def submit(smtp: smtplib.SMTP) -> None:
            options = ["BODY=8BITMIME"] if eight_bit and smtp.has_extn("8bitmime") else []
            smtp.sendmail(envelope_from, [to], data, mail_options=options)

        self._submit(submit)
        log.debug("mail to=%s id=%s via=%s", to, message_id, self.host)

    def _submit(self, action: Callable[[smtplib.SMTP], object]) -> None:
        """Run ``action`` on the open connection (opened on first use, opened again once when
        the server had dropped it), turning SMTP errors into the mail area's errors."""
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                action(self._smtp)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise RelayUnavailable(f"SMTP server went away: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise DeliveryFailed(
                    f"recipient refused: {codes}",
                    temporary=all(400 <= c < 500 for c in codes),
                    recipient_refused=True,
                ) from exc
            except (
                smtplib.SMTPSenderRefused,
                smtplib.SMTPAuthenticationError,
                smtplib.SMTPConnectError,
                smtplib.SMTPHeloError,
            ) as exc:
                self.close()
                raise RelayUnavailable(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            except smtplib.SMTPResponseException as exc:
                self.close()
                if exc.smtp_code == 421:  # the service closes the whole connection
                    raise RelayUnavailable(f"SMTP 421: {exc.smtp_error!r}") from exc
                raise DeliveryFailed(
                    f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", temporary=exc.smtp_code < 500
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise RelayUnavailable(f"SMTP unreachable: {exc}") from exc

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp.close()
            self._smtp = None


def transport_for(mail_url: str, instance_path: str) -> Transport:
    """The transport ``MAIL_URL`` names; the dev folder ``instance/mail`` when it is empty."""
    if not mail_url:
        return FolderTransport(Path(instance_path) / "mail")
    return SMTPTransport(mail_url)
