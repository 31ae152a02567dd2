"""Taking the returned mail that a mail server delivered into a Maildir.

Every message in ``new/`` is taken (:func:`~app.notify.bounces.intake.take_report`) in its own
transaction, then moved to ``cur/``: marked seen (``:2,S``), or flagged and left unseen
(``:2,F``) when it could not be read, so that someone can look at it. The envelope recipient a
mail server records (``Delivered-To``, ``X-Original-To``, ``Envelope-To``) stands for the
listener's ``RCPT TO``. Taking a message twice changes nothing twice, so a run that stops between
the commit and the move is harmless, and two runs may share a Maildir.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from app import clock
from app.extensions import db
from app.notify.bounces.intake import Intake, Outcome, take_report
from app.notify.bounces.reports import MAX_BYTES

log = logging.getLogger("pullfirst.notify.bounces")

ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")


class NotAMaildir(Exception):
    """The folder has no ``new/`` and ``cur/``."""


def take_maildir(folder: Path) -> Counter[str]:
    """Take every message in ``folder/new``; returns the count of each outcome. Raises
    :class:`NotAMaildir`; a database error propagates and leaves its message in ``new/``."""
    new, cur = folder / "new", folder / "cur"
    if not new.is_dir() or not cur.is_dir():
        raise NotAMaildir(f"{folder} is not a Maildir (it needs new/ and cur/)")
    totals: Counter[str] = Counter()
    for name in sorted(os.listdir(new)):
        path = new / name
        if name.startswith(".") or not path.is_file() or path.is_symlink():
            continue
        try:
            intake = _take_file(path)
        except FileNotFoundError:
            continue  # another run took it first
        flags = "F" if intake.outcome is Outcome.REJECTED else "S"
        with contextlib.suppress(FileNotFoundError):  # another run moved it
            os.replace(path, cur / _with_flags(name, flags))
        totals[intake.outcome] += 1
    return totals


def _take_file(path: Path) -> Intake:
    if path.stat().st_size > MAX_BYTES:
        log.warning("bounce rejected: %s is larger than %d bytes", path.name, MAX_BYTES)
        return Intake(Outcome.REJECTED)
    raw = path.read_bytes()
    try:
        intake = take_report(raw, _envelope_recipients(raw), clock.now())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return intake


def _envelope_recipients(raw: bytes) -> list[str]:
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        return [str(value) for name in ENVELOPE_HEADERS for value in (headers.get_all(name) or [])][
            :10
        ]
    except Exception:  # the reader counts what it cannot read
        return []


def _with_flags(name: str, flags: str) -> str:
    """The name of a message in ``cur/``: ``<unique>:2,<flags>``."""
    unique, _, info = name.partition(":2,")
    merged = "".join(sorted(set(info) | set(flags)))
    return f"{unique}:2,{merged}"
