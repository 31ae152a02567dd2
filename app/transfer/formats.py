"""The exports the importer knows, found by their header, and the mapping of each to one row.

Every format maps a record to the same :class:`SourceRow`: address, name, when the person
joined the old list, the evidence of their consent (the wording they agreed to, when, where), and
whether the old tool says they left (unsubscribed, blocklisted, deleted, cleaned). The formats:

- **Ghost** member export (``id,email,name,note,subscribed_to_emails,complimentary_plan,
  stripe_customer_id,created_at,deleted_at,labels,tiers``…): joined and evidence time are
  ``created_at``; ``subscribed_to_emails=false`` or a ``deleted_at`` means they left.
- **listmonk** subscriber export (``uuid,email,name,attributes,status,created_at,updated_at``):
  times in Go's ``2006-01-02 15:04:05.999 -0700 MST`` form; status ``blocklisted`` left.
- **Mailchimp** audience export (``Email Address,First Name,Last Name,…,MEMBER_RATING,OPTIN_TIME,
  OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,…,LAST_CHANGED,…``): the evidence time is ``CONFIRM_TIME``
  (double opt-in) or else ``OPTIN_TIME``, its place the sign-up IP; an ``UNSUB_TIME`` or
  ``CLEAN_TIME`` means they left (the unsubscribed and cleaned files).
- **CSV**: any other file; the operator maps columns to fields (``email`` is required).

No format's "subscribed" flag or opt-in time is wording: the wording comes from the operator (a
file for the whole import, or a mapped column), and a row has evidence only with all three parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from app.transfer.errors import ImportRefused


class Format(StrEnum):
    GHOST = "ghost"
    LISTMONK = "listmonk"
    MAILCHIMP = "mailchimp"
    CSV = "csv"


LABELS = {
    Format.GHOST: "Ghost member export",
    Format.LISTMONK: "listmonk subscriber export",
    Format.MAILCHIMP: "Mailchimp audience export",
    Format.CSV: "CSV file with mapped columns",
}


class Field(StrEnum):
    """What a column can hold, for ``--map FIELD=COLUMN``."""

    EMAIL = "email"
    NAME = "name"
    JOINED = "joined"
    EVIDENCE_WORDING = "evidence_wording"
    EVIDENCE_AT = "evidence_at"
    EVIDENCE_WHERE = "evidence_where"


# The columns each known format is recognised by (all of them, case-insensitive).
SIGNATURES = {
    Format.GHOST: {"email", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id"},
    Format.LISTMONK: {"uuid", "email", "name", "attributes", "status", "created_at"},
    Format.MAILCHIMP: {"email address", "member_rating", "optin_time", "confirm_time"},
}
DEFAULT_MAPPING: dict[Format, dict[Field, str]] = {
    Format.GHOST: {Field.EMAIL: "email", Field.NAME: "name", Field.JOINED: "created_at"},
    Format.LISTMONK: {Field.EMAIL: "email", Field.NAME: "name", Field.JOINED: "created_at"},
    Format.MAILCHIMP: {Field.EMAIL: "Email Address", Field.JOINED: "OPTIN_TIME"},
    Format.CSV: {},
}
# Column names a plain CSV's fields are guessed from (case-insensitive), before --map.
GUESSES = {
    Field.EMAIL: ("email", "e-mail", "email address", "e-mail address", "mail"),
    Field.NAME: ("name", "full name", "display name"),
    Field.JOINED: ("joined", "created_at", "created", "signed up", "subscribed_at"),
    Field.EVIDENCE_WORDING: ("evidence_wording", "consent_wording", "wording"),
    Field.EVIDENCE_AT: ("evidence_at", "consent_at", "consented_at", "optin_time"),
    Field.EVIDENCE_WHERE: ("evidence_where", "consent_where", "consent_source"),
}


class RowProblem(ValueError):
    """A cell of a row that cannot be read (a date that is no date)."""


@dataclass(frozen=True)
class Evidence:
    wording: str
    at: datetime
    where: str


@dataclass(frozen=True)
class SourceRow:
    """One record in the importer's terms, not yet checked."""

    line: int
    email: str
    name: str = ""
    joined: datetime | None = None
    evidence: Evidence | None = None
    left: str | None = None  # why the old tool says this person left, if it does
    cells: tuple[str, ...] = field(default=(), repr=False)


def detect(header: list[str]) -> Format:
    names = {h.strip().casefold() for h in header}
    for fmt, signature in SIGNATURES.items():
        if signature <= names:
            return fmt
    return Format.CSV


def parse_mapping(pairs: list[str]) -> dict[Field, str]:
    """``["email=E-mail", "name=Full name"]`` as a mapping; raise :class:`ImportRefused`."""
    mapping: dict[Field, str] = {}
    for pair in pairs:
        key, sep, column = pair.partition("=")
        try:
            target = Field(key.strip())
        except ValueError:
            known = ", ".join(f.value for f in Field)
            raise ImportRefused(
                f"--map {pair!r}: unknown field {key!r}; use one of {known}"
            ) from None
        if not sep or not column.strip():
            raise ImportRefused(f"--map {pair!r}: give FIELD=COLUMN")
        mapping[target] = column.strip()
    return mapping


@dataclass(frozen=True)
class Layout:
    """How one file's records become rows: its format and the column index of each field."""

    format: Format
    columns: dict[Field, int]
    header: list[str]
    extra: dict[str, int]  # format-specific columns (status, deleted_at, OPTIN_IP …)

    def mapping(self) -> dict[str, str]:
        return {f.value: self.header[i] for f, i in self.columns.items()}


def _index(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        found.setdefault(name.strip().casefold(), i)
    return found


def layout_for(
    header: list[str], fmt: Format | None, mapping: Mapping[Field, str] | None = None
) -> Layout:
    """The layout of a file with ``header``: ``fmt`` (detected when None), its default
    columns, then ``mapping`` on top. Raises :class:`ImportRefused` for a mapped column the
    header lacks, or no email column."""
    chosen = fmt or detect(header)
    index = _index(header)
    columns: dict[Field, int] = {}
    if chosen == Format.CSV:
        for target, names in GUESSES.items():
            for name in names:
                if name in index:
                    columns[target] = index[name]
                    break
    else:
        for target, name in DEFAULT_MAPPING[chosen].items():
            if name.casefold() in index:
                columns[target] = index[name.casefold()]
    for target, name in (mapping or {}).items():
        if name.casefold() not in index:
            raise ImportRefused(
                f"--map {target.value}={name}: the header has no column {name!r} "
                f"(it has: {', '.join(h.strip() for h in header)})"
            )
        columns[target] = index[name.casefold()]
    if Field.EMAIL not in columns:
        raise ImportRefused(
            "has no email column: name it with --map email=COLUMN "
            f"(the header has: {', '.join(h.strip() for h in header)[:300]})"
        )
    return Layout(chosen, columns, header, index)


# --- times ------------------------------------------------------------------------------------

_GO_TIME = re.compile(
    r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(\.\d+)?\s*([+-]\d\d:?\d\d|Z)?(?:\s+[A-Za-z0-9+-]+)?$"
)


def parse_time(text: str) -> datetime:
    """A time from an export, as UTC: ISO 8601 (Ghost, most CSVs), ``YYYY-MM-DD HH:MM:SS``
    (Mailchimp, read as UTC), Go's ``time.Time`` text (listmonk), or a day. Raises
    :class:`RowProblem`."""
    value = text.strip()
    match = _GO_TIME.match(value)
    if match:
        base, fraction, offset = match.groups()
        micro = int(((fraction or ".0")[1:] + "000000")[:6])
        moment = datetime.fromisoformat(base.replace(" ", "T")).replace(microsecond=micro)
        if offset and offset != "Z":
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return moment.replace(tzinfo=timezone(sign * delta)).astimezone(UTC)
        return moment.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowProblem(f"{value[:40]!r} is not a date and time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEvidence:
    """What the operator says for the whole file: the wording people agreed to, and where (for
    exports that hold no place)."""

    wording: str | None = None
    where: str | None = None


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _time_of(cells: list[str], index: int | None, label: str) -> datetime | None:
    text = _cell(cells, index)
    if not text:
        return None
    try:
        return parse_time(text)
    except RowProblem as exc:
        raise RowProblem(f"{label}: {exc}") from None


def to_row(layout: Layout, line: int, cells: list[str], given: FileEvidence) -> SourceRow:
    """The row a record stands for. Raises :class:`RowProblem` for a time that cannot be
    read."""
    col = layout.columns.get
    extra = layout.extra.get
    fmt = layout.format
    email = _cell(cells, col(Field.EMAIL))
    name = _cell(cells, col(Field.NAME))
    joined_label = (
        layout.header[col(Field.JOINED, 0)].strip() if Field.JOINED in layout.columns else "joined"
    )
    joined = _time_of(cells, col(Field.JOINED), joined_label)
    wording = _cell(cells, col(Field.EVIDENCE_WORDING)) or (given.wording or "")
    where = _cell(cells, col(Field.EVIDENCE_WHERE))
    at_label = (
        layout.header[col(Field.EVIDENCE_AT, 0)].strip()
        if Field.EVIDENCE_AT in layout.columns
        else "evidence_at"
    )
    at = _time_of(cells, col(Field.EVIDENCE_AT), at_label)
    left: str | None = None
    if fmt == Format.GHOST:
        at = at or joined
        if _cell(cells, extra("deleted_at")):
            left = "deleted in Ghost"
        elif _cell(cells, extra("subscribed_to_emails")).casefold() in ("false", "0", "no"):
            left = "not subscribed to emails in Ghost"
    elif fmt == Format.LISTMONK:
        at = at or joined
        if _cell(cells, extra("status")).casefold() == "blocklisted":
            left = "blocklisted in listmonk"
    elif fmt == Format.MAILCHIMP:
        if not name:
            first = _cell(cells, extra("first name"))
            last = _cell(cells, extra("last name"))
            name = f"{first} {last}".strip()
        confirmed = _time_of(cells, extra("confirm_time"), "CONFIRM_TIME")
        opted = _time_of(cells, extra("optin_time"), "OPTIN_TIME")
        at = at or confirmed or opted
        joined = joined or opted or confirmed
        if not where:
            ip = _cell(cells, extra("confirm_ip")) if confirmed else ""
            ip = ip or _cell(cells, extra("optin_ip"))
            if ip:
                where = f"Mailchimp sign-up form, from IP {ip}"
        if _cell(cells, extra("unsub_time")):
            left = "unsubscribed in Mailchimp"
        elif _cell(cells, extra("clean_time")):
            left = "cleaned in Mailchimp (the address bounced)"
    where = where or (given.where or "")
    evidence = Evidence(wording, at, where) if wording and at is not None and where else None
    return SourceRow(line, email, name, joined, evidence, left)
