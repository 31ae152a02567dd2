"""Benchmark: minting codes through the JSON API the way a till does, beside the CLI's issuing
in the same run.

- api: ``POST /api/v1/batches/<batch>/codes`` with ``{"count": 1}`` and a fresh
  ``Idempotency-Key`` per request, through the app (Flask's WSGI test client, one process): key
  check, rate limit, idempotency claim, minting, the encrypted stored answer, two commits;
- cli, one per transaction: ``issue_codes(batch, 1)`` and a commit, as many times (what the
  CLI's issuing costs per code when each code is its own transaction);
- cli, one batch: ``issue_codes(batch, N)`` once (``flask codes issue --count N``).

The budget is 100 codes a second through the API in one process. With ``--profile`` the API
run is profiled and the 20 most expensive functions printed.

Run from the repository folder: ``.venv/bin/python bench/api.py [--count N] [--database URL]``
(default: a fresh SQLite file in a temporary folder). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.api.keys import create_key
from app.database import migrate
from app.engage.redemption import issue_codes
from app.extensions import db
from bench._common import scratch_app

BUDGET = 100  # codes a second through the API, one process


def _line(label: str, count: int, seconds: float, api_seconds: float | None = None) -> None:
    ratio = "" if api_seconds is None else f"   API is {api_seconds / seconds:5.1f}x its time"
    each = seconds * 1000 / count
    print(f"{label:<28} {count / seconds:>9,.0f} codes/s  ({each:6.2f} ms each){ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="codes to mint (default 1000)")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite)")
    parser.add_argument("--profile", action="store_true", help="profile the API run")
    args = parser.parse_args()
    with scratch_app(args.database) as (app, _folder):
        _run(app, args.count, args.profile)


def _run(app: Flask, count: int, profile: bool) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        migrate.upgrade(db.engine)
        for name in ("bench-api", "bench-cli-each", "bench-cli-batch"):
            issue_codes(name, 1, now=now, expires_at=now + timedelta(days=30))
        secret = create_key("Bench till", ["codes:mint"], 10_000, created_by=None, now=now).secret
        db.session.commit()

        start = time.perf_counter()
        for _ in range(count):
            issue_codes("bench-cli-each", 1, now=now)
            db.session.commit()
        each = time.perf_counter() - start

        start = time.perf_counter()
        issue_codes("bench-cli-batch", count, now=now)
        db.session.commit()
        batch = time.perf_counter() - start

    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    profiler = cProfile.Profile() if profile else None
    cpu_start = time.process_time()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for n in range(count):
        response = client.post(
            "/api/v1/batches/bench-api/codes",
            json={"count": 1},
            headers={**headers, "Idempotency-Key": f"till-1-receipt-{n}"},
        )
        if response.status_code != 201:
            raise SystemExit(f"bench: request {n} answered {response.status_code}: {response.text}")
    if profiler is not None:
        profiler.disable()
    api = time.perf_counter() - start
    cpu = time.process_time() - cpu_start

    with app.app_context():
        print(f"database: {db.dialect}, {count} codes, one process")
    _line("api, one code a request", count, api)
    _line("cli, one code a transaction", count, each, api)
    _line("cli, one batch", count, batch, api)
    print(
        f"api CPU time (this process, client included): {cpu * 1000 / count:.2f} ms a request, "
        f"{count / cpu:,.0f} codes/s if the process had a core to itself; load {_load()}"
    )
    rate = count / api
    verdict = "within" if rate >= BUDGET else "MISSES"
    print(f"budget: {BUDGET} codes/s through the API; {rate:,.0f} codes/s: {verdict} the budget")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
