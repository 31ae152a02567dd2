"""Files uploaded on the admin screen, kept beside their import run between the dry run and the
import (the command reads its file from disk and keeps none)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from app.extensions import db
from app.transfer.checking import Plan, Report
from app.transfer.importing import RunState, new_run
from app.transfer.models import ImportRun, ImportUpload


def keep_upload(
    plan: Plan, report: Report, content: bytes, *, by: str, by_member_id: int, now: datetime
) -> ImportRun:
    """Record the checked run and keep its file for the import; the caller commits."""
    run = new_run(plan, report, by=by, by_member_id=by_member_id, now=now)
    db.session.add(run)
    db.session.flush()
    db.session.add(ImportUpload(run_id=run.id, content=content))
    return run


def upload_of(run: ImportRun) -> bytes | None:
    """The file kept for ``run``, or None once it was imported or discarded."""
    upload = db.session.get(ImportUpload, run.id)
    return upload.content if upload is not None else None


def discard(run: ImportRun) -> bool:
    """Drop a checked run's file and mark it discarded; False when it is past checking. The
    caller commits."""
    if run.state != RunState.CHECKED:
        return False
    run.state = RunState.DISCARDED
    db.session.execute(delete(ImportUpload).where(ImportUpload.run_id == run.id))
    return True
