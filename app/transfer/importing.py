"""The import itself: every row checked and every new person written in one transaction.

:func:`apply_import` streams the file once, checking each row as the dry run does
(:mod:`app.transfer.checking`) and writing the new people in batches: the members (unverified,
without a password), the scope's reward ``scope:<slug>`` (earned by ``import``, so they may say
yes to it), the consent of each row with evidence (appended to the ledger through
:func:`app.consent.ledger.consents.import_consents`, with the exact wording from the
evidence), and one invitation per member. A file with bad rows is
refused (unless told to skip them) after it was read to the end, so the refusal lists every bad
row. Nothing is committed here: the caller commits once at the end, and rolls back on any error
or refusal, so a failed import writes nothing.

An address that became a member between the check and the write is counted as existing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, insert

from app.accounts.members import NewMember, add_members, email_key
from app.consent.ledger.consents import ImportedGrant, import_consents
from app.consent.scopes import Scope
from app.extensions import db
from app.rewards.entitlements import grant_many
from app.transfer.checking import (
    Checked,
    Outcome,
    Plan,
    Report,
    check_plan,
    checked_rows,
    count_in,
    new_report,
    read_layout,
)
from app.transfer.errors import BadRowsFound, ImportRunError
from app.transfer.models import ImportInvitation, ImportRun, ImportUpload
from app.transfer.reading import Opener

WRITE_BATCH = 1_000
EARNED_BY = "import"


class RunState(StrEnum):
    CHECKED = "checked"  # uploaded on the admin screen and dry-run, not imported yet
    IMPORTED = "imported"
    DISCARDED = "discarded"


class InvitationKind(StrEnum):
    KEEP = "keep"  # consent imported to the scope's current words: confirm the address
    ASK = "ask"  # no evidence, or evidence for other words: say yes again


class InvitationState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    SKIPPED = "skipped"  # closed account, or an address that bounced or complained
    DEAD = "dead"


@dataclass
class Counts:
    imported: int = 0
    with_evidence: int = 0
    raced: int = 0


def new_run(
    plan: Plan, report: Report, *, by: str, by_member_id: int | None, now: datetime
) -> ImportRun:
    """An import run for ``plan`` in state ``checked`` (the caller adds and commits it)."""
    return ImportRun(
        file_name=plan.file_name[:255],
        format=report.format.value,
        mapping=json.dumps({f.value: c for f, c in plan.mapping.items()}),
        scope=plan.scope,
        channel=plan.channel,
        old_list=plan.old_list,
        evidence_wording=plan.evidence.wording,
        evidence_where=plan.evidence.where,
        rate_count=plan.rate.count,
        rate_seconds=plan.rate.seconds,
        state=RunState.CHECKED,
        rows=report.rows,
        imported=0,
        with_evidence=0,
        existing=report.existing,
        left_out=report.left_out,
        bad=len(report.bad),
        by_member_id=by_member_id,
        by=by[:254],
        created_at=now,
    )


def _write(
    batch: list[Checked], run: ImportRun, scope: Scope, plan: Plan, counts: Counts, now: datetime
) -> None:
    created = add_members([NewMember(c.email, c.name) for c in batch], now)
    grant_many(list(created.values()), scope.reward, EARNED_BY, now)
    current = scope.wording_for(plan.channel)
    invitations = []
    grants = []
    for item in batch:
        member_id = created.get(email_key(item.email))
        if member_id is None:
            counts.raced += 1
            continue
        counts.imported += 1
        kind = InvitationKind.ASK
        evidence = item.evidence
        if evidence is not None:
            grants.append(ImportedGrant(member_id, evidence.wording, evidence.at, evidence.where))
            if evidence.wording == current:
                kind = InvitationKind.KEEP
        invitations.append(
            {
                "run_id": run.id,
                "member_id": member_id,
                "kind": kind.value,
                "state": InvitationState.QUEUED.value,
                "line": item.line,
                "joined_at": item.joined,
                "created_at": now,
                "attempts": 0,
            }
        )
    counts.with_evidence += import_consents(
        grants, scope, plan.channel, f"import:run-{run.id}", now
    )
    if invitations:
        db.session.execute(insert(ImportInvitation), invitations)
    batch.clear()


def apply_import(
    plan: Plan,
    open_file: Opener,
    now: datetime,
    *,
    by: str,
    by_member_id: int | None = None,
    skip_bad_rows: bool = False,
    run: ImportRun | None = None,
) -> tuple[ImportRun, Report]:
    """Import the file of ``plan`` (see the module docstring) and return its run and report.
    ``run`` is the admin screen's run of this file (state ``checked``); without it a run is
    created. Rows are checked and written in one pass; after the first bad row (without
    ``skip_bad_rows``) nothing more is written, the rest is only checked so that the error
    reports every bad row. The caller commits, or rolls back on any error.

    Raises :class:`~app.transfer.errors.ImportRefused` (wrong options, unreadable file),
    :class:`BadRowsFound` (bad rows without ``skip_bad_rows``; it carries the report) or
    :class:`ImportRunError` (``run`` was already imported or discarded)."""
    scope = check_plan(plan)
    if run is not None and run.state != RunState.CHECKED:
        raise ImportRunError(f"import {run.id} is {run.state}: upload the file again")
    prepared = read_layout(plan, open_file)
    report = new_report(plan, *prepared)
    if run is None:
        run = new_run(plan, report, by=by, by_member_id=by_member_id, now=now)
        db.session.add(run)
        db.session.flush()
    current = scope.wording_for(plan.channel)
    counts = Counts()
    batch: list[Checked] = []
    for item in checked_rows(plan, open_file, now, prepared):
        count_in(report, item, current)
        if item.outcome != Outcome.NEW or (report.bad and not skip_bad_rows):
            continue
        batch.append(item)
        if len(batch) >= WRITE_BATCH:
            _write(batch, run, scope, plan, counts, now)
    if report.bad and not skip_bad_rows:
        raise BadRowsFound(
            f"{plan.file_name}: {len(report.bad):,} bad row{'s' if len(report.bad) != 1 else ''}"
            ": fix them, or import the other rows and skip those (--skip-bad-rows)",
            report,
        )
    _write(batch, run, scope, plan, counts, now)
    run.rows, run.bad, run.left_out = report.rows, len(report.bad), report.left_out
    run.imported, run.with_evidence = counts.imported, counts.with_evidence
    run.existing = report.existing + counts.raced
    run.state, run.imported_at = RunState.IMPORTED, now
    db.session.execute(delete(ImportUpload).where(ImportUpload.run_id == run.id))
    db.session.flush()
    return run, report
