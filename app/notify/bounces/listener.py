"""The bounce listener: an SMTP (or LMTP) server that takes returned mail for the bounce domain.

It accepts a message only for ``bounces+<id>.<tag>@<bounce domain>`` (any other recipient is
refused with 550; a second recipient in one transaction is deferred with 452, so every message
has one), and at most :data:`~app.notify.bounces.reports.MAX_BYTES` of it (552 above). Each
message is taken by :func:`~app.notify.bounces.intake.take_report` on one worker thread, in its
own app context and transaction, before the server answers: 250 once it is recorded (a message
that cannot be read is counted as ``rejected`` and answered 250 too, since sending it again would
not help), 451 when the database failed, so the sending server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from flask import Flask

from app import clock
from app.extensions import db
from app.notify.bounces.intake import take_report
from app.notify.bounces.reports import MAX_BYTES
from app.notify.bounces.verp import bounce_domain, read_verp

log = logging.getLogger("pullfirst.notify.bounces")


class BounceListener:
    """Listens on ``host:port`` until :meth:`stop`. ``totals`` counts the outcomes (and the
    ``refused`` recipients); ``lmtp`` speaks LMTP (LHLO) instead of SMTP."""

    def __init__(self, app: Flask, host: str, port: int, *, lmtp: bool = False) -> None:
        self.app, self.host, self.port = app, host, port
        with app.app_context():
            self.domain = bounce_domain()
        self.lmtp = lmtp
        self.totals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bounces")
        self.controller = _Controller(
            _Handler(self),
            hostname=host,
            port=port,
            lmtp=lmtp,
            server_hostname=self.domain,
            data_size_limit=MAX_BYTES,
            enable_SMTPUTF8=True,
        )

    def start(self) -> None:
        """Bind and serve on a background thread; raises ``OSError`` when the port is taken."""
        self.controller.start()

    def stop(self) -> None:
        """Stop listening; a message being recorded is finished first."""
        self.controller.stop()
        self._work.shutdown(wait=True)

    def count(self, what: str) -> None:
        with self._lock:
            self.totals[what] += 1

    def take(self, raw: bytes, recipients: list[str], null_sender: bool) -> str:
        """Take one message in its own app context and transaction; returns the outcome."""
        with self.app.app_context():
            try:
                intake = take_report(raw, recipients, clock.now(), null_sender)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
        self.count(intake.outcome)
        return str(intake.outcome)


class _Controller(Controller):
    def __init__(self, handler: Any, *, lmtp: bool, **options: Any) -> None:
        super().__init__(handler, **options)
        self.lmtp = lmtp

    def factory(self) -> SMTP:
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


class _Handler:
    def __init__(self, listener: BounceListener) -> None:
        self.listener = listener

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        verp = read_verp(address)
        if verp is None or verp.domain != self.listener.domain:
            self.listener.count("refused")
            return "550 5.1.1 No such mailbox here"
        if envelope.rcpt_tos:
            return "452 4.5.3 One recipient per message, please send the next one again"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8", "replace")
        null_sender = (envelope.mail_from or "").strip("<>") == ""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self.listener._work, self.listener.take, raw, list(envelope.rcpt_tos), null_sender
            )
        except Exception:
            log.exception("bounce listener: could not record a report; the sender will retry")
            return "451 4.3.0 Could not record the report now, please try again later"
        return "250 2.0.0 OK"
