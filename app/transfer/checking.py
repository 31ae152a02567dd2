"""The dry run: every row of an import file checked, nothing written.

:func:`check_plan` refuses wrong options before a row is read (unknown scope or channel, a
wording that is blank). :func:`checked_rows` streams the file and says, for each record, what
the import would do with it:

- ``new``: a person to import (with evidence of consent, or to invite);
- ``existing``: already a member here (by address, in any case): skipped and counted;
- ``left``: the old tool says they left (unsubscribed, blocklisted, deleted): not imported;
- ``bad``: a row that cannot be imported, with its line and the reason: a line that is not
  UTF-8 in a UTF-8 file, no address or an invalid one, the same address as an earlier line (in
  any case), a time that is no time, or an evidence or joined time in the future.

Cells are text and stay text: a name starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is stored as written and only reported as a warning (the export makes such cells
safe for spreadsheets). :func:`dry_run` gathers the stream into a :class:`Report`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from app.accounts.members import InvalidEmail, clean_display_name, clean_email, email_key
from app.accounts.models import Member
from app.consent.scopes import Scope, find_scope
from app.consent.terms import Channel
from app.extensions import db
from app.transfer.errors import ImportRefused
from app.transfer.formats import (
    LABELS,
    Evidence,
    Field,
    FileEvidence,
    Format,
    Layout,
    RowProblem,
    layout_for,
    to_row,
)
from app.transfer.rates import Rate
from app.transfer.reading import Encoding, Opener, records, settle_encoding

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_WORDING = 5_000
MAX_WHERE = 300
LOOKUP_BATCH = 500
# Channels an import can bring consent for: the file proves an address, nothing else.
IMPORTABLE_CHANNELS = (Channel.EMAIL,)


@dataclass(frozen=True)
class Plan:
    """What the operator asked for one file."""

    file_name: str
    scope: str
    channel: str
    rate: Rate
    old_list: str
    format: Format | None = None
    mapping: dict[Field, str] = field(default_factory=dict)
    evidence: FileEvidence = field(default_factory=FileEvidence)


class Outcome(StrEnum):
    NEW = "new"
    EXISTING = "existing"
    LEFT = "left"
    BAD = "bad"


@dataclass(frozen=True)
class Checked:
    """What the import does with one record. ``email`` is the cleaned address for ``new`` and
    ``existing`` rows, the cell as written otherwise; ``reason`` says why a row is bad or
    left out."""

    outcome: Outcome
    line: int
    email: str
    name: str = ""
    joined: datetime | None = None
    evidence: Evidence | None = None
    reason: str = ""
    warning: str = ""


@dataclass
class Report:
    file_name: str
    format: Format
    encoding: Encoding
    mapping: dict[str, str]
    rows: int = 0
    new: int = 0
    with_evidence: int = 0
    current_wording: int = 0  # of those with evidence: to the scope's current words
    existing: int = 0
    left_out: int = 0
    bad: list[Checked] = field(default_factory=list)
    warnings: list[Checked] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        return LABELS[self.format]

    @property
    def asked_again(self) -> int:
        """New members asked to say yes again: no evidence, or evidence for other words."""
        return self.new - self.current_wording


def check_plan(plan: Plan) -> Scope:
    """The scope the plan's evidence is for; raise :class:`ImportRefused` for an unknown scope,
    a channel it does not offer or that an import cannot prove, or a blank wording."""
    scope = find_scope(plan.scope)
    if scope is None:
        raise ImportRefused(f"--scope {plan.scope!r}: no such scope in content/scopes.toml")
    if plan.channel not in {c.value for c in Channel}:
        raise ImportRefused(f"--channel {plan.channel!r}: no such channel")
    if plan.channel not in scope.channels:
        raise ImportRefused(f"--channel {plan.channel!r}: {scope.title} is not offered by it")
    if plan.channel not in IMPORTABLE_CHANNELS:
        raise ImportRefused(
            f"--channel {plan.channel!r}: an import proves only email addresses; use email"
        )
    wording = plan.evidence.wording
    if wording is not None and (not wording.strip() or len(wording) > MAX_WORDING):
        raise ImportRefused(f"the evidence wording must be 1 to {MAX_WORDING:,} characters")
    where = plan.evidence.where
    if where is not None and (not where.strip() or len(where) > MAX_WHERE):
        raise ImportRefused(f"--evidence-where must be 1 to {MAX_WHERE} characters")
    if not plan.old_list.strip() or len(plan.old_list) > 120:
        raise ImportRefused("--old-list must be 1 to 120 characters")
    return scope


def read_layout(plan: Plan, open_file: Opener) -> tuple[Encoding, Layout]:
    encoding = settle_encoding(open_file)
    header = next(records(open_file, encoding), None)
    if header is None:
        raise ImportRefused("is empty")
    return encoding, layout_for(header.cells, plan.format, plan.mapping)


def _first_look(plan: Plan, line: int, cells: list[str], layout: Layout, now: datetime) -> Checked:
    """The row's own checks (everything but duplicates and existing members)."""
    try:
        row = to_row(layout, line, cells, plan.evidence)
    except RowProblem as exc:
        return Checked(Outcome.BAD, line, _raw_email(layout, cells), reason=str(exc))
    if not row.email:
        return Checked(Outcome.BAD, line, "", reason="no email address")
    try:
        address = clean_email(row.email)
    except InvalidEmail as exc:
        return Checked(Outcome.BAD, line, row.email, reason=f"not an email address: {exc}")
    evidence = row.evidence
    if evidence is not None:
        if evidence.at > now:
            return Checked(
                Outcome.BAD,
                line,
                address,
                reason=f"the evidence date {evidence.at:%Y-%m-%d %H:%M} UTC is in the future",
            )
        if len(evidence.wording) > MAX_WORDING or len(evidence.where) > MAX_WHERE:
            return Checked(Outcome.BAD, line, address, reason="the evidence is too long")
    if row.joined is not None and row.joined > now:
        return Checked(
            Outcome.BAD,
            line,
            address,
            reason=f"the joined date {row.joined:%Y-%m-%d %H:%M} UTC is in the future",
        )
    if row.left is not None:
        return Checked(Outcome.LEFT, line, address, reason=row.left)
    warning = ""
    if row.name.startswith(FORMULA_STARTS):
        warning = (
            f"the name starts with {row.name[0]!r}: stored as text, never as a formula "
            "(exports make such cells safe)"
        )
    return Checked(
        Outcome.NEW,
        line,
        address,
        name=clean_display_name(row.name),
        joined=row.joined,
        evidence=evidence,
        warning=warning,
    )


def _raw_email(layout: Layout, cells: list[str]) -> str:
    index = layout.columns.get(Field.EMAIL)
    return cells[index].strip()[:254] if index is not None and index < len(cells) else ""


def _members_among(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.session.scalars(select(Member.email_key).where(Member.email_key.in_(keys))))


def checked_rows(
    plan: Plan,
    open_file: Opener,
    now: datetime,
    prepared: tuple[Encoding, Layout] | None = None,
) -> Iterator[Checked]:
    """Every record after the header, checked (see the module docstring), in file order;
    ``prepared`` is :func:`read_layout`'s answer when the caller has it. Raises
    :class:`ImportRefused` for a file that cannot be read."""
    encoding, layout = prepared or read_layout(plan, open_file)
    seen: dict[str, int] = {}
    pending: list[Checked] = []

    def flush() -> Iterator[Checked]:
        members = _members_among([email_key(c.email) for c in pending if c.outcome == Outcome.NEW])
        for item in pending:
            if item.outcome == Outcome.NEW and email_key(item.email) in members:
                yield Checked(Outcome.EXISTING, item.line, item.email, reason="already a member")
            else:
                yield item
        pending.clear()

    rows = records(open_file, encoding)
    next(rows)  # the header
    for record in rows:
        if record.not_utf8:
            pending.append(
                Checked(
                    Outcome.BAD,
                    record.line,
                    _raw_email(layout, record.cells),
                    reason="mixed encodings: this line is not UTF-8 while the rest of the file "
                    "is; correct its letters and export again",
                )
            )
        else:
            item = _first_look(plan, record.line, record.cells, layout, now)
            if item.outcome != Outcome.BAD:
                key = email_key(item.email)
                first = seen.setdefault(key, item.line)
                if first != item.line:
                    item = Checked(
                        Outcome.BAD,
                        item.line,
                        item.email,
                        reason=f"the same address as line {first} (addresses are compared "
                        "in any case)",
                    )
            pending.append(item)
        if len(pending) >= LOOKUP_BATCH:
            yield from flush()
    yield from flush()


def new_report(plan: Plan, encoding: Encoding, layout: Layout) -> Report:
    return Report(plan.file_name, layout.format, encoding, layout.mapping())


def count_in(report: Report, item: Checked, current_wording: str) -> None:
    """Add one checked row to the report's counts and lists."""
    report.rows += 1
    if item.outcome == Outcome.NEW:
        report.new += 1
        if item.evidence is not None:
            report.with_evidence += 1
            report.current_wording += item.evidence.wording == current_wording
        if item.warning:
            report.warnings.append(item)
    elif item.outcome == Outcome.EXISTING:
        report.existing += 1
    elif item.outcome == Outcome.LEFT:
        report.left_out += 1
    else:
        report.bad.append(item)


def dry_run(plan: Plan, open_file: Opener, now: datetime) -> Report:
    """Check every row and count what an import would do; writes nothing. Raises
    :class:`ImportRefused` for wrong options or a file that cannot be read."""
    current = check_plan(plan).wording_for(plan.channel)
    prepared = read_layout(plan, open_file)
    report = new_report(plan, *prepared)
    for item in checked_rows(plan, open_file, now, prepared):
        count_in(report, item, current)
    return report
