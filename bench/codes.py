"""Benchmark: issuing and redeeming in-store codes, each next to a baseline from the same run.

- issue: ``issue_codes`` for 100,000 codes (generate, hash, check for clashes, insert), against
  generating and hashing the same number without the database;
- redeem: 500 redemptions one after another, each in its own transaction (lookup, guarded
  update, redemption row, ``code:<batch>`` action, reward grants), against 500 lookups of the
  same codes by hash.

Run from the repository folder: ``.venv/bin/python bench/codes.py [--database URL]`` (default: a
fresh SQLite file in a temporary folder). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.accounts import members
from app.database import migrate
from app.engage import codes
from app.engage.models import Code
from app.engage.redemption import code_key, issue_codes, redeem
from app.extensions import db
from bench._common import scratch_app

ISSUE_COUNT = 100_000
REDEEM_COUNT = 500


def _timed(label: str, seconds: float, baseline: float, unit: str, count: int) -> None:
    print(
        f"{label:<8} {count / seconds:>10,.0f} {unit}/s   baseline {count / baseline:>12,.0f}"
        f" {unit}/s   ratio {seconds / baseline:6.1f}x slower than the baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite)")
    args = parser.parse_args()
    with scratch_app(args.database) as (app, _folder):
        _run(app, args.database is not None)


def _run(app: Flask, shared_database: bool) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        migrate.upgrade(db.engine)
        if shared_database and db.session.scalar(select(Code.id).limit(1)) is not None:
            raise SystemExit("bench: the database already holds codes; give an empty one")
        key = code_key()
        start = time.perf_counter()
        for _ in range(ISSUE_COUNT):
            codes.code_hash(codes.normalise(codes.generate()), key)
        baseline = time.perf_counter() - start

        start = time.perf_counter()
        issued = issue_codes("bench-store", ISSUE_COUNT, now=now)
        db.session.commit()
        _timed("issue", time.perf_counter() - start, baseline, "codes", ISSUE_COUNT)

        people = [
            members.create_member(f"b{i}@example.com", None, now=now).id
            for i in range(REDEEM_COUNT)
        ]
        db.session.commit()
        chosen = issued.codes[:REDEEM_COUNT]
        start = time.perf_counter()
        for code in chosen:
            db.session.scalar(
                select(Code.id).where(Code.code_hash == codes.code_hash(codes.normalise(code), key))
            )
            db.session.commit()
        baseline = time.perf_counter() - start

        start = time.perf_counter()
        for person, code in zip(people, chosen, strict=True):
            redeem(person, code, now)
            db.session.commit()
        _timed("redeem", time.perf_counter() - start, baseline, "codes", REDEEM_COUNT)
        print(f"database: {db.dialect}")


if __name__ == "__main__":
    main()
