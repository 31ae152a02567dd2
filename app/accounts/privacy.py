"""What a member can ask of their data: a full export, and deletion.

Every area that stores something about a member registers an exporter in its ``init_app``; the
export is the union of what they return, keyed by the name they registered. Deletion emits
:class:`MemberDeleting` in the deleting transaction, so areas that must keep a record (the consent
ledger) pseudonymise it first; then the member row goes, and the database's ``ON DELETE CASCADE``
removes every row that hangs off it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask

from app import events
from app.accounts.models import Member
from app.extensions import db
from app.registry import Registry

Exporter = Callable[[int], Any]

EXPORTERS = Registry[Exporter](
    "exporters", "a part of a member's data export (JSON-compatible values), by its key"
)


@dataclass(frozen=True)
class MemberDeleting(events.Event):
    """A member is about to be deleted; handlers run in the same transaction."""

    name = "member-deleting"
    member_id: int
    at: datetime


def register_exporter(app: Flask, name: str, exporter: Exporter) -> None:
    """Include ``exporter(member_id)`` (JSON-compatible values) under ``name`` in exports."""
    EXPORTERS.add(app, name, exporter)


def export_member(member: Member, now: datetime) -> dict[str, Any]:
    """Everything held about ``member``, as JSON-compatible values."""
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "account": {
            "id": member.id,
            "email": member.email,
            "display_name": member.display_name,
            "time_zone": member.time_zone,
            "role": member.role,
            "created_at": member.created_at.isoformat(),
            "email_verified_at": _iso(member.email_verified_at),
            "password_changed_at": _iso(member.password_changed_at),
            "last_sign_in_at": _iso(member.last_sign_in_at),
            "has_password": member.has_password,
        },
    }
    for name, exporter in sorted(EXPORTERS.named().items()):
        data[name] = exporter(member.id)
    return data


def delete_member(member: Member, now: datetime) -> None:
    """Delete ``member`` and everything personal about them; the caller commits."""
    events.emit(MemberDeleting(member_id=member.id, at=now))
    db.session.delete(member)
    db.session.flush()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
