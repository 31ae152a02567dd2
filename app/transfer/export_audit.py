"""Who downloaded the member export, and when: each download is recorded (``member_exports``)
and committed before the export's first row is read, so a download cut short is recorded too.
The admin screen lists the latest; the log (``pullfirst.transfer``) has the same facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.transfer.export_formats import ExportFormat
from app.transfer.models import MemberExportRecord

SCREEN = "screen"
CLI = "cli"
SHOWN = 20  # downloads listed on the admin screen


@dataclass(frozen=True)
class ExportDownload:
    at: datetime
    format: str
    via: str
    by: str


def record_export(
    export_format: ExportFormat, via: str, by: str, by_member_id: int | None, now: datetime
) -> None:
    """Record a download of the export and commit it (the export then reads its own snapshot)."""
    db.session.add(
        MemberExportRecord(
            format=export_format.value, via=via, by=by[:254], by_member_id=by_member_id, at=now
        )
    )
    db.session.commit()


def latest_exports(limit: int = SHOWN) -> tuple[list[ExportDownload], int]:
    """The ``limit`` latest downloads, newest first, and how many there were in all."""
    rows = db.session.scalars(
        select(MemberExportRecord)
        .order_by(MemberExportRecord.at.desc(), MemberExportRecord.id.desc())
        .limit(limit)
    )
    shown = [ExportDownload(row.at, row.format, row.via, row.by) for row in rows]
    total = db.session.scalar(select(func.count()).select_from(MemberExportRecord)) or 0
    return shown, int(total)
