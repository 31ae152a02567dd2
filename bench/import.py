"""Benchmark: the member importer on a large Ghost member export, beside a baseline.

- baseline: ``csv.reader`` over the same file (decode and split, nothing else);
- dry run: :func:`app.transfer.checking.dry_run` (encoding pass, every row read, addresses
  validated, duplicates and existing members looked up in batches), writes nothing;
- import: :func:`app.transfer.importing.apply_import` (the dry run again, then members,
  ``scope:<slug>`` rewards, one ledger grant per row with evidence and one invitation per
  member, in one transaction).

Every row carries evidence (the operator's wording and place with Ghost's ``created_at``), the
costly case: each becomes a consent event. Peak memory is the process's maximum resident set.

Run from the repository folder: ``.venv/bin/python bench/import.py [--rows 200000]
[--database URL]`` (default: a fresh SQLite file in a temporary folder). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.accounts.models import Member
from app.consent.scopes import find_scope
from app.database import migrate
from app.extensions import db
from app.transfer.checking import Plan, dry_run
from app.transfer.formats import FileEvidence
from app.transfer.importing import apply_import
from app.transfer.rates import parse_rate
from bench._common import scratch_app

HEADER = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
    "created_at,deleted_at,labels,tiers\n"
)


def write_export(path: Path, rows: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for n in range(rows):
            joined = (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            handle.write(
                f"{n:024x},reader{n}@example.com,Reader Number {n},,true,false,,"
                f'{joined},,"Imported, newsletter",Free\n'
            )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line(label: str, seconds: float, rows: int, baseline: float | None = None) -> None:
    ratio = f"   {seconds / baseline:6.1f}x the baseline's time" if baseline else ""
    print(
        f"{label:<9} {rows / seconds:>10,.0f} rows/s  {seconds:7.2f} s  "
        f"peak memory {peak_mb():7.1f} MB{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite)")
    args = parser.parse_args()
    with scratch_app(args.database) as (app, folder):
        _run(app, folder, args.rows)


def _run(app: Flask, folder: Path, rows: int) -> None:
    export = folder / "ghost-members.csv"
    write_export(export, rows)
    print(f"file: {rows:,} rows, {export.stat().st_size / 1e6:.1f} MB")
    start = time.perf_counter()
    with export.open(encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            pass
    baseline = time.perf_counter() - start
    line("baseline", baseline, rows)
    now = datetime.now(UTC)
    with app.app_context():
        migrate.upgrade(db.engine)
        if db.session.scalar(select(func.count()).select_from(Member)):
            raise SystemExit("bench: the database already holds members; give an empty one")
        scope = find_scope("newsletter")
        assert scope is not None
        plan = Plan(
            file_name=export.name,
            scope="newsletter",
            channel="email",
            rate=parse_rate("200/hour"),
            old_list="the old letter",
            evidence=FileEvidence(scope.wording_for("email"), "the Ghost sign-up form"),
        )

        def opener() -> object:
            return export.open("rb")

        start = time.perf_counter()
        report = dry_run(plan, opener, now)  # type: ignore[arg-type]
        line("dry run", time.perf_counter() - start, rows, baseline)
        assert report.new == rows and not report.bad
        start = time.perf_counter()
        run, _ = apply_import(plan, opener, now, by="bench")  # type: ignore[arg-type]
        db.session.commit()
        line("import", time.perf_counter() - start, rows, baseline)
        print(f"imported {run.imported:,} members, {run.with_evidence:,} with consent")
        print(f"database: {db.dialect}")


if __name__ == "__main__":
    main()
