"""The member export: every member, what each one earned, where each permission stands and the
whole consent ledger, read from one snapshot of the database and streamed row by row.

The export has four parts (:data:`PARTS`), each a table with fixed columns:

- ``members``: the accounts (address, name, role, time zone, when they joined and confirmed).
- ``entitlements``: each reward a member earned (``scope:<slug>`` or ``pack:<slug>``), by which
  action and when.
- ``consent_states``: the current answer per member, scope and channel, with the words' version
  and SHA-256, and the receipt of the ledger event in force.
- ``ledger``: every consent event ever recorded, oldest first, with the exact words shown. An
  event belongs to a consent *subject*; the subject of a deleted member was pseudonymised, so
  its events carry the subject's number and no member: the export never joins them to anyone.
  The salted client hashes stay out: without the salt (gone with the member) they prove
  nothing, and with it they would only identify a browser.

Rows are read in batches with ``yield_per`` (a server-side cursor on PostgreSQL), so a site with
hundreds of thousands of members and millions of events is exported in constant memory. The
reads form one read-only transaction that never takes SQLite's write lock
(:func:`app.database.core.reads_only`) and, on PostgreSQL, is ``REPEATABLE READ``: the four parts
agree with each other even while members sign up and change their minds during the export.

Values come out as JSON-ready plain values: times as ISO 8601 in UTC, words as their text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from flask import current_app
from sqlalchemy import Boolean, Result, Select, select, type_coerce

from app.accounts.models import Member
from app.consent.models import ConsentEvent, ConsentState, ConsentSubject
from app.database.core import reads_only
from app.extensions import db
from app.rewards.models import Entitlement
from app.site.settings import current_settings

#: Rows fetched from the database at a time.
BATCH = 1_000

Value = str | int | bool | None


def _members() -> Select[*tuple[Any, ...]]:
    return select(
        Member.id,
        Member.email,
        Member.display_name,
        Member.role,
        Member.time_zone,
        Member.created_at,
        Member.email_verified_at,
        Member.last_sign_in_at,
        type_coerce(Member.password_hash.is_not(None), Boolean),
        Member.deleted_at,
    ).order_by(Member.id)


def _entitlements() -> Select[*tuple[Any, ...]]:
    return select(
        Entitlement.member_id, Entitlement.reward, Entitlement.earned_by, Entitlement.earned_at
    ).order_by(Entitlement.id)


def _consent_states() -> Select[*tuple[Any, ...]]:
    return (
        select(
            ConsentState.member_id,
            ConsentState.scope,
            ConsentState.channel,
            ConsentState.granted,
            ConsentState.wording_version,
            ConsentState.wording_hash,
            ConsentState.granted_at,
            ConsentState.changed_at,
            ConsentEvent.receipt,
        )
        .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
        .order_by(ConsentState.member_id, ConsentState.scope, ConsentState.channel)
    )


def _ledger() -> Select[*tuple[Any, ...]]:
    return (
        select(
            ConsentEvent.receipt,
            ConsentEvent.subject_id,
            ConsentSubject.member_id,
            ConsentEvent.scope,
            ConsentEvent.channel,
            ConsentEvent.action,
            ConsentEvent.at,
            ConsentEvent.source,
            ConsentEvent.page,
            ConsentEvent.wording,
            ConsentEvent.wording_version,
            ConsentEvent.wording_hash,
            ConsentEvent.typed,
        )
        .join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
        .order_by(ConsentEvent.id)
    )


@dataclass(frozen=True)
class Part:
    """One table of the export: its key in the JSON document, its CSV file, its columns (in
    the order of the query's), and what one of its rows is called in a sentence."""

    name: str
    file: str
    columns: tuple[str, ...]
    query: Callable[[], Select[*tuple[Any, ...]]]
    row_is: str

    def counted(self, count: int) -> str:
        """``1 member``, ``2,000 members``."""
        return f"{count:,} {self.row_is}{'' if count == 1 else 's'}"


PARTS = (
    Part(
        "members",
        "members.csv",
        (
            "id",
            "email",
            "display_name",
            "role",
            "time_zone",
            "joined_at",
            "email_verified_at",
            "last_sign_in_at",
            "has_password",
            "deleted_at",
        ),
        _members,
        "member",
    ),
    Part(
        "entitlements",
        "earned.csv",
        ("member_id", "reward", "earned_by", "earned_at"),
        _entitlements,
        "earned reward",
    ),
    Part(
        "consent_states",
        "consent.csv",
        (
            "member_id",
            "scope",
            "channel",
            "granted",
            "wording_version",
            "wording_sha256",
            "granted_at",
            "changed_at",
            "receipt",
        ),
        _consent_states,
        "consent state",
    ),
    Part(
        "ledger",
        "ledger.csv",
        (
            "receipt",
            "subject",
            "member_id",
            "scope",
            "channel",
            "action",
            "at",
            "source",
            "page",
            "wording",
            "wording_version",
            "wording_sha256",
            "typed",
        ),
        _ledger,
        "ledger event",
    ),
)


def plain(value: object) -> Value:
    """A database value as a JSON-ready one: a time as ISO 8601, a word as its text."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"no plain form for {type(value).__name__}")


def site_identity() -> dict[str, str]:
    """Which site an export comes from: its title and ``BASE_URL``."""
    return {"title": current_settings().title, "base_url": current_app.config["BASE_URL"]}


@dataclass
class MemberExport:
    """One export in progress: when it was taken, of which site, and how many rows each part
    had (filled in as the parts are read)."""

    exported_at: datetime
    site: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    _reading: list[Result[Any]] = field(default_factory=list, repr=False)

    def begin(self) -> None:
        """Start the read-only snapshot the parts are read from (before the first part)."""
        reads_only()
        if db.dialect == "postgresql":
            snapshot = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            db.session.connection(execution_options=snapshot)

    def end(self) -> None:
        """End the snapshot (it wrote nothing), closing the cursor of a part left half-read
        when the reader stopped early."""
        while self._reading:
            self._reading.pop().close()
        db.session.rollback()

    def rows(self, part: Part) -> Iterator[tuple[Value, ...]]:
        """The part's rows, in batches of :data:`BATCH`; its count is set once all were read."""
        count = 0
        result = db.session.execute(part.query(), execution_options={"yield_per": BATCH})
        self._reading.append(result)
        for row in result:
            count += 1
            yield tuple(plain(value) for value in row)
        self._reading.remove(result)
        result.close()
        self.counts[part.name] = count

    def summary(self) -> str:
        """``3 members, 5 earned rewards, 4 consent states and 9 ledger events``."""
        said = [p.counted(self.counts.get(p.name, 0)) for p in PARTS]
        return ", ".join(said[:-1]) + " and " + said[-1]
