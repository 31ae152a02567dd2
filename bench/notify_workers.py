"""Benchmark: notifier throughput on PostgreSQL with 1, 2 and 4 worker processes.

Each round starts the workers (``flask --app app notify worker``) and lets them settle idle,
then fills the outbox of a new campaign to fresh members and times from that commit until the
last delivery is recorded as sent. The mail goes to an aiosmtpd sink in its own process. The
one-worker round is the baseline of the others, measured in the same run. The machine's cores
are shared by the workers, the sink and PostgreSQL, so the load is printed with each round.

    .venv/bin/python bench/notify_workers.py --database postgresql+psycopg://…/EMPTY_DB
        [--deliveries 3000] [--workers 1 2 4] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notify.campaigns import Draft, create_campaign, send_now  # noqa: E402
from app.notify.models import Campaign, Delivery  # noqa: E402
from bench._common import PYTHON, app_env, free_port, load, unscheduled_content  # noqa: E402
from bench._notify_world import add_members  # noqa: E402
from bench._smtp_sink import start_sink  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", required=True, help="an empty PostgreSQL database (postgresql+psycopg://…)"
    )
    parser.add_argument("--deliveries", type=int, default=3_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    if not args.database.startswith("postgresql"):
        raise SystemExit("bench: several workers share an outbox only on PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="pullfirst-bench-") as folder:
        run(Path(folder), args.database, args.deliveries, args.workers, args.batch)


def run(folder: Path, database: str, size: int, counts: list[int], batch: int) -> None:
    instance = folder / "instance"
    os.environ["PULLFIRST_INSTANCE_PATH"] = str(instance)
    port = free_port()
    content = unscheduled_content(folder)
    settings = {
        "DATABASE_URL": database,
        "CONTENT_DIR": str(content),
        "SECRET_KEY": "b" * 32,
        "STICKERS_DIR": str(folder / "no-stickers"),
        "MAIL_URL": f"smtp://127.0.0.1:{port}",
        "BASE_URL": "https://pullfirst.example",
    }
    app = create_app(settings)
    env = app_env(
        content,
        instance,
        PULLFIRST_NOTIFY_POLL_SECONDS="0.1",
        **{f"PULLFIRST_{k}": v for k, v in settings.items() if k != "CONTENT_DIR"},
    )
    sink = start_sink(port)
    rates: dict[int, float] = {}
    try:
        with app.app_context():
            migrate.upgrade(db.engine)
            if db.session.scalar(select(Campaign.id).limit(1)) is not None:
                raise SystemExit("bench: the database already holds campaigns; give an empty one")
            for count in counts:
                rates[count] = measure(env, folder, count, size, batch)
                print(
                    f"{count} worker(s): {rates[count]:>7,.0f} deliveries/s over {size:,} "
                    f"(load {load()})",
                    flush=True,
                )
            db.session.close()
            db.engine.dispose()
    finally:
        sink.terminate()
        sink.wait(timeout=30)
    base = rates[counts[0]]
    for count, rate in rates.items():
        print(
            f"{count} worker(s) {rate:>7,.0f} deliveries/s | {counts[0]} worker(s) "
            f"{base:>7,.0f} deliveries/s | ratio {rate / base:4.2f}x"
        )


def measure(env: dict[str, str], folder: Path, count: int, size: int, batch: int) -> float:
    now = datetime.now(UTC)
    add_members(size, now)
    campaign = create_campaign(
        Draft(
            f"Bench with {count} workers",
            "Hello. [Read](/a).",
            "newsletter",
            "editorial",
            ("email",),
        ),
        None,
        now,
    )
    db.session.commit()
    logs = [folder / f"worker-{count}-{n}.log" for n in range(count)]
    workers = []
    for log in logs:
        with log.open("w") as out:
            workers.append(
                subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "flask",
                        "--app",
                        "app",
                        "notify",
                        "worker",
                        "--batch",
                        str(batch),
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 120
        while not all("batches of" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit(
                    "a worker did not start:\n" + "\n".join(log.read_text() for log in logs)
                )
            time.sleep(0.1)
        time.sleep(1.0)  # past their start-up housekeeping, polling an empty outbox
        send_now(campaign, datetime.now(UTC))
        db.session.commit()
        started = time.perf_counter()
        while sent(campaign.id) < size:
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker died:\n" + "\n".join(f.read_text() for f in logs))
            time.sleep(0.02)
        spent = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    return size / spent


def sent(campaign_id: int) -> int:
    count = (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.state == "sent")
        )
        or 0
    )
    db.session.rollback()
    return count


if __name__ == "__main__":
    main()
