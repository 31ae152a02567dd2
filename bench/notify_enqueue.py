"""Benchmark: filling the outbox of a campaign to 100,000 members on SQLite, gate included,
beside a raw ``executemany`` insert of the same rows in the same run.

The enqueue is :func:`app.notify.campaigns.send_now` and its commit: the audience preview
(counts per gate reason), the set-based audience query, and the batched insert of one delivery
per member. The baseline is :mod:`sqlite3` inserting the same (campaign, member, channel,
state, attempts, due, created) rows into the same table with one ``executemany`` and one
commit. Each run empties the outbox first; the figures are medians. Budget: the enqueue
reaches at least 40% of the raw insert rate.

    .venv/bin/python bench/notify_enqueue.py [--members 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notify.campaigns import Draft, create_campaign, send_now  # noqa: E402
from app.notify.models import Delivery  # noqa: E402
from bench._common import load  # noqa: E402
from bench._notify_world import add_members  # noqa: E402

BUDGET = 0.40
RAW_INSERT = (
    "INSERT INTO deliveries (campaign_id, member_id, channel, state, attempts, "
    "due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pullfirst-bench-") as folder:
        run(Path(folder), args.members, args.runs)


def run(folder: Path, size: int, runs: int) -> None:
    path = folder / "bench.db"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "CONTENT_DIR": str(REPO / "content"),
            "SECRET_KEY": "b" * 32,
            "STICKERS_DIR": str(folder / "no-stickers"),
        }
    )
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    with app.app_context():
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        ids = add_members(size, now)
        print(
            f"{size:,} members who said yes to the newsletter by email, built in "
            f"{time.perf_counter() - started:.1f} s (load {load()})"
        )
        raw_rates, enqueue_rates = [], []
        for number in range(runs):
            baseline = create_campaign(
                Draft(f"Baseline {number}", "Hello.", "newsletter", "editorial", ("email",)),
                None,
                now,
            )
            db.session.commit()
            rows = [(baseline.id, member, "email", "queued", 0, stamp, stamp) for member in ids]
            raw = sqlite3.connect(path)
            started = time.perf_counter()
            raw.executemany(RAW_INSERT, rows)
            raw.commit()
            raw_rates.append(len(rows) / (time.perf_counter() - started))
            raw.execute("DELETE FROM deliveries")
            raw.commit()
            raw.close()

            campaign = create_campaign(
                Draft(
                    f"Letter {number}", "Hello. [Read](/a).", "newsletter", "editorial", ("email",)
                ),
                None,
                now,
            )
            db.session.commit()
            started = time.perf_counter()
            sizes = send_now(campaign, now)
            db.session.commit()
            enqueue_rates.append(sizes["email"] / (time.perf_counter() - started))
            assert sizes["email"] == size, sizes
            db.session.execute(delete(Delivery))
            db.session.commit()
            print(
                f"run {number + 1}: enqueue {enqueue_rates[-1]:>9,.0f} rows/s   "
                f"raw executemany {raw_rates[-1]:>9,.0f} rows/s"
            )
        enqueue, raw_rate = statistics.median(enqueue_rates), statistics.median(raw_rates)
        ratio = enqueue / raw_rate
        print(
            f"enqueue (send_now, gate included) {enqueue:>9,.0f} rows/s | raw sqlite3 "
            f"executemany {raw_rate:>9,.0f} rows/s | ratio {ratio:.0%} "
            f"(budget {BUDGET:.0%}: {'met' if ratio >= BUDGET else 'MISSED'})"
        )
        print(f"{size:,} rows: enqueue {size / enqueue:.2f} s, raw insert {size / raw_rate:.2f} s")
        db.session.close()
        db.engine.dispose()


if __name__ == "__main__":
    main()
