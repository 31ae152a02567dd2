"""In-store code batches: issue them, redeem one, count what happened to them.

Redeeming is safe under any concurrency: a code's use counter rises only through
``UPDATE … SET used = used + 1 WHERE used < max_uses`` (the database re-checks the guard on the
row it locks), and a member's one redemption per batch is a unique constraint. Both happen in one
savepoint, with the ``code:<batch>`` action that grants the rewards, so a refusal leaves nothing
behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.engage import codes
from app.engage.actions import record_action
from app.engage.dates import last_day, members_day
from app.engage.errors import (
    BatchAlreadyRedeemed,
    BatchError,
    CodeAlreadyRedeemed,
    CodeExpired,
    CodeUnknown,
    CodeUsedUp,
)
from app.engage.models import Code, CodeBatch, Redemption
from app.extensions import db

BATCH_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_COUNT = 100_000
MAX_USES = 100_000
_LOOKUP_CHUNK = 500


def code_key() -> bytes:
    """The key of the stored code hashes: ``CODE_HASH_KEY``, or one derived from the secret."""
    configured = current_app.config.get("CODE_HASH_KEY")
    return codes.derive_key(configured or current_app.config["SECRET_KEY"])


# --- issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCodes:
    batch: str
    codes: list[str]
    uses: int
    expires_at: datetime | None


def find_batch(name: str) -> CodeBatch | None:
    return db.session.scalar(select(CodeBatch).where(CodeBatch.name == name))


def _batch_for(
    name: str, uses: int | None, expires_at: datetime | None, now: datetime
) -> CodeBatch:
    batch = find_batch(name)
    if batch is None:
        batch = CodeBatch(name=name, uses_per_code=uses or 1, expires_at=expires_at, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(batch)
        except IntegrityError:
            raise BatchError(f"batch {name!r} was created at the same time; run again") from None
        return batch
    if uses is not None and uses != batch.uses_per_code:
        raise BatchError(
            f"batch {name!r} gives {batch.uses_per_code} use(s) per code; "
            "leave out --uses or choose another batch name"
        )
    if expires_at is not None and expires_at != batch.expires_at:
        when = batch.expires_at.date().isoformat() if batch.expires_at else "never"
        raise BatchError(
            f"batch {name!r} expires {when}; leave out --expires or choose another batch name"
        )
    return batch


def _taken(hashes: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[start : start + _LOOKUP_CHUNK]
        taken.update(db.session.scalars(select(Code.code_hash).where(Code.code_hash.in_(chunk))))
    return taken


def _fresh_codes(count: int, key: bytes) -> Iterator[tuple[str, str]]:
    """``count`` new (printed code, hash) pairs that no issued code has."""
    pending: dict[str, str] = {}
    while len(pending) < count:
        for _ in range(count - len(pending)):
            printed = codes.generate()
            pending.setdefault(codes.code_hash(codes.normalise(printed), key), printed)
        for taken in _taken(list(pending)):
            del pending[taken]  # 60 random bits: practically never, but never a duplicate
    for digest, printed in pending.items():
        yield printed, digest


def issue_codes(
    name: str,
    count: int,
    *,
    now: datetime,
    uses: int | None = None,
    expires_at: datetime | None = None,
) -> IssuedCodes:
    """Add ``count`` new codes to batch ``name`` (created when new, with ``uses`` uses per code,
    1 by default, valid until ``expires_at``). Returns the printed codes: this is the only time
    they exist outside the receipt. The caller commits.

    Raises :class:`BatchError` for a bad name or count, or options that differ from the batch's.
    """
    if not BATCH_NAME.match(name):
        raise BatchError(
            f"batch name {name!r} must be lower-case letters, digits and dashes, like spring-store"
        )
    if not 1 <= count <= MAX_COUNT:
        raise BatchError(f"--count must be between 1 and {MAX_COUNT:,}")
    if uses is not None and not 1 <= uses <= MAX_USES:
        raise BatchError(f"--uses must be between 1 and {MAX_USES:,}")
    if expires_at is not None and expires_at <= now:
        raise BatchError("--expires must be in the future")
    batch = _batch_for(name, uses, expires_at, now)
    pairs = list(_fresh_codes(count, code_key()))
    db.session.execute(
        insert(Code),
        [
            {
                "batch_id": batch.id,
                "code_hash": digest,
                "max_uses": batch.uses_per_code,
                "used": 0,
                "issued_at": now,
            }
            for _, digest in pairs
        ],
    )
    return IssuedCodes(
        batch.name, [printed for printed, _ in pairs], batch.uses_per_code, batch.expires_at
    )


# --- redeeming --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedeemedCode:
    batch: str
    action: str


def _refuse_repeat(member_id: int, code: Code, batch: CodeBatch) -> None:
    mine = db.session.scalar(
        select(Redemption).where(Redemption.batch_id == batch.id, Redemption.member_id == member_id)
    )
    if mine is None:
        return
    when = members_day(mine.redeemed_at, member_id)
    if mine.code_id == code.id:
        raise CodeAlreadyRedeemed(
            f"You already redeemed this code on {when}. What it earned is on your rewards page."
        )
    still = " It is still unused: give it to a friend." if code.used < code.max_uses else ""
    raise BatchAlreadyRedeemed(
        f"You already redeemed a code of this kind on {when}, and each "
        f"person can redeem one.{still}"
    )


def redeem(member_id: int, typed: str, now: datetime) -> RedeemedCode:
    """Redeem the code a member typed and record ``code:<batch>``; the caller commits.

    Raises :class:`CodeMalformed`, :class:`CodeUnknown`, :class:`CodeAlreadyRedeemed`,
    :class:`BatchAlreadyRedeemed`, :class:`CodeExpired` or :class:`CodeUsedUp`; nothing is
    written when it raises.
    """
    symbols = codes.normalise(typed)
    row = db.session.execute(
        select(Code, CodeBatch)
        .join(CodeBatch, CodeBatch.id == Code.batch_id)
        .where(Code.code_hash == codes.code_hash(symbols, code_key()))
    ).first()
    if row is None:
        raise CodeUnknown(
            "We do not know this code. Check it against your receipt, or ask in "
            "the shop that gave it to you."
        )
    code, batch = row
    _refuse_repeat(member_id, code, batch)
    if batch.expires_at is not None and now >= batch.expires_at:
        raise CodeExpired(f"This code was valid until {last_day(batch.expires_at)}.")
    try:
        with db.session.begin_nested():
            result = cast(
                CursorResult[Any],
                db.session.execute(
                    update(Code)
                    .where(Code.id == code.id, Code.used < Code.max_uses)
                    .values(used=Code.used + 1)
                ),
            )
            if result.rowcount != 1:
                raise CodeUsedUp("This code has already been used as many times as it allows.")
            db.session.add(
                Redemption(code_id=code.id, batch_id=batch.id, member_id=member_id, redeemed_at=now)
            )
            db.session.flush()
    except IntegrityError:
        db.session.expire(code)
        _refuse_repeat(member_id, code, batch)
        raise
    action = f"code:{batch.name}"
    record_action(member_id, action, now)
    return RedeemedCode(batch.name, action)


# --- counting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchStats:
    """What happened to a batch. ``redeemed`` counts uses; ``expired`` the codes that still had
    uses when the batch expired; ``left`` the uses still open."""

    name: str
    uses_per_code: int
    created_at: datetime
    expires_at: datetime | None
    issued: int
    redeemed: int
    used_up: int
    expired: int
    left: int


def batch_stats(now: datetime) -> list[BatchStats]:
    """Every batch, newest first, with its counts."""
    open_code = case((Code.used < Code.max_uses, 1), else_=0)
    rows = db.session.execute(
        select(
            CodeBatch,
            func.count(Code.id),
            func.coalesce(func.sum(Code.used), 0),
            func.coalesce(func.sum(open_code), 0),
            func.coalesce(func.sum(Code.max_uses - Code.used), 0),
        )
        .outerjoin(Code, Code.batch_id == CodeBatch.id)
        .group_by(CodeBatch.id)
        .order_by(CodeBatch.created_at.desc(), CodeBatch.id.desc())
    ).all()
    stats = []
    for batch, issued, redeemed, still_open, uses_left in rows:
        over = batch.expires_at is not None and now >= batch.expires_at
        stats.append(
            BatchStats(
                name=batch.name,
                uses_per_code=batch.uses_per_code,
                created_at=batch.created_at,
                expires_at=batch.expires_at,
                issued=int(issued),
                redeemed=int(redeemed),
                used_up=int(issued) - int(still_open),
                expired=int(still_open) if over else 0,
                left=0 if over else int(uses_left),
            )
        )
    return stats


def batch_names() -> list[str]:
    return list(db.session.scalars(select(CodeBatch.name).order_by(CodeBatch.name)))


def redemptions_of(member_id: int) -> list[dict[str, Any]]:
    """A member's redemptions for their data export (the codes themselves are not stored)."""
    rows = db.session.execute(
        select(CodeBatch.name, Redemption.redeemed_at)
        .join(CodeBatch, CodeBatch.id == Redemption.batch_id)
        .where(Redemption.member_id == member_id)
        .order_by(Redemption.redeemed_at)
    ).all()
    return [{"batch": name, "redeemed_at": at.isoformat()} for name, at in rows]
