"""Idempotent requests: a retry with the same ``Idempotency-Key`` gets the first answer again.

A request is claimed before its work (a row with no status yet: "in flight") and completed with
the answer in the same transaction as the work, so minted codes and their stored answer commit
together. A retry finds the row: the same fingerprint (method, path, body) gets the stored answer;
another fingerprint is refused; a claim still in flight is refused as a conflict, unless it is
older than :data:`IN_FLIGHT_LEASE`, when its work cannot have committed (work and answer commit
together) and a retry takes it over.

The stored answer of a mint holds printed codes, which are otherwise never stored. It is kept
encrypted (AES-GCM, key derived from ``SECRET_KEY``, bound to the API key and the
``Idempotency-Key``), only for :data:`KEPT` (the worker deletes older rows), and only the key
that minted the codes can read it back, by retrying its own request.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.api.errors import Conflict, Unprocessable
from app.api.rest_models import ApiIdempotency
from app.extensions import db
from app.signing import purpose_key

KEPT = timedelta(hours=24)
IN_FLIGHT_LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
_NONCE = 12


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over the method, the path and the body's hash."""
    body_hash = hashlib.sha256(body).hexdigest()
    return hashlib.sha256(f"{method}\n{path}\n{body_hash}".encode()).hexdigest()


def _aad(key_id: int, idempotency_key: str) -> bytes:
    return f"{key_id}\n{idempotency_key}".encode()


def seal(key_id: int, idempotency_key: str, body: dict[str, Any]) -> bytes:
    nonce = os.urandom(_NONCE)
    plain = json.dumps(body, separators=(",", ":")).encode()
    cipher = AESGCM(purpose_key("api.idempotency"))
    return nonce + cipher.encrypt(nonce, plain, _aad(key_id, idempotency_key))


def unseal(key_id: int, idempotency_key: str, sealed: bytes) -> dict[str, Any]:
    """The stored answer; :class:`Conflict` when it can no longer be read (``SECRET_KEY``
    changed since)."""
    cipher = AESGCM(purpose_key("api.idempotency"))
    try:
        plain = cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(key_id, idempotency_key))
    except InvalidTag:
        raise Conflict(
            "The answer kept for this Idempotency-Key can no longer be read; "
            "send the request with a new key."
        ) from None
    body: dict[str, Any] = json.loads(plain)
    return body


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def _insert_claim(key_id: int, idempotency_key: str, print_: str, now: datetime) -> int | None:
    """Insert the claim; its id, or None when the key already has a row (no error, so no
    savepoint: the common case is one statement)."""
    dialect = db.dialect
    statement = (
        postgresql.insert(ApiIdempotency)
        if dialect == "postgresql"
        else sqlite.insert(ApiIdempotency)
    )
    claimed: int | None = db.session.scalar(
        statement.values(
            key_id=key_id, idempotency_key=idempotency_key, fingerprint=print_, created_at=now
        )
        .on_conflict_do_nothing(index_elements=["key_id", "idempotency_key"])
        .returning(ApiIdempotency.id)
    )
    return claimed


def claim(key_id: int, idempotency_key: str, print_: str, now: datetime) -> Replay | int:
    """Claim ``idempotency_key`` for this request and commit the claim: returns the claim's id,
    or the stored :class:`Replay` of the same request made before.

    Raises :class:`Unprocessable` when the key was used with another request, :class:`Conflict`
    when the same request is still in flight.
    """
    for _ in range(2):
        claimed = _insert_claim(key_id, idempotency_key, print_, now)
        if claimed is not None:
            db.session.commit()
            return claimed
        row = db.session.scalar(
            select(ApiIdempotency).where(
                ApiIdempotency.key_id == key_id,
                ApiIdempotency.idempotency_key == idempotency_key,
            )
        )
        if row is None:
            continue  # deleted since (forgotten, or its work failed): claim it again
        if now - row.created_at >= KEPT:
            db.session.delete(row)
            db.session.flush()
            continue
        if row.fingerprint != print_:
            raise Unprocessable(
                "This Idempotency-Key was used with another request (method, path or body); "
                "use a new key for a new request."
            )
        if row.status is not None and row.response is not None:
            return Replay(row.status, unseal(key_id, idempotency_key, row.response))
        if now - row.created_at < IN_FLIGHT_LEASE:
            raise Conflict(
                "A request with this Idempotency-Key is still being answered; "
                "retry in a moment to get its answer."
            )
        taken = db.session.execute(
            update(ApiIdempotency)
            .where(ApiIdempotency.id == row.id, ApiIdempotency.created_at == row.created_at)
            .values(created_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if getattr(taken, "rowcount", 0) == 1:
            return row.id
    raise Conflict("A request with this Idempotency-Key is still being answered.")


def complete(
    claim_id: int,
    key_id: int,
    idempotency_key: str,
    status: int,
    body: dict[str, Any],
    now: datetime,
) -> None:
    """Store the answer of a claimed request, in the transaction of its work."""
    db.session.execute(
        update(ApiIdempotency)
        .where(ApiIdempotency.id == claim_id)
        .values(status=status, response=seal(key_id, idempotency_key, body), completed_at=now)
        .execution_options(synchronize_session=False)
    )


def release(claim_id: int) -> None:
    """Drop a claim whose work failed, so that a retry does the work; commits."""
    db.session.rollback()
    db.session.execute(delete(ApiIdempotency).where(ApiIdempotency.id == claim_id))
    db.session.commit()


def forget_old(now: datetime) -> int:
    """Delete the answers kept longer than :data:`KEPT` (a worker chore); commits."""
    result = db.session.execute(
        delete(ApiIdempotency).where(ApiIdempotency.created_at < now - KEPT)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
