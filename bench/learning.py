"""Benchmark: does learning help? Twelve simulated weeks of weekly letters and member offers to
readers with hidden preferences, sent once with the plain policy (``NOTIFY_LEARNING = False``)
and once with the learned one (``NOTIFY_LEARNING = True``), with the same seed, readers and
articles, in the same run.

Each reader has topics they care about, a two-hour time of day at which they read their mail
(in their own time zone, some with quiet hours), a number of messages a week they accept and a
tolerance for irrelevant or too-frequent ones. At the start most answer a reader survey about
their topics, truthfully; between messages they read articles on their topics on the site.
Each message is read when it arrives near their mail time (else later, under newer mail): its
tracked link is followed, through the app, mostly when it is about their topics; "not for me"
is pressed sometimes on irrelevant ones; the unsubscribe link when irrelevant or too-frequent
messages pass their tolerance; otherwise nothing. The app only ever sees what they do.

The real gate, outbox and worker deliver to a local SMTP sink on the app's clock. The plain
policy sends the same letter (the newest articles) and every offer to the whole scope; the
learned one lets the app rank the letter per reader, rest after silence, wait for each
reader's own hour, and narrows each offer to the readers whose survey answer names its topic.

Printed per seed and for all seeds together, learned beside plain: engaged messages (followed
links) over messages sent, messages sent to readers who would ignore them (none of the
reader's topics in it), messages that arrived in the reader's mail time, unsubscribes, "not
for me", and promise violations: every delivered message, matched between the database and
the sink, audited against its scope's promise (:mod:`bench._learning_audit`); then why the gate
left members out of each outbox. Budgets: engagement rate at least 1.5x plain, messages to
readers who would ignore them at most 0.5x plain, no violation (the script exits 1 when there
is one). The two policies of a seed run at once in two processes (``--jobs``).

    .venv/bin/python bench/learning.py [--seeds 1,2,3] [--members 300] [--weeks 12] [--jobs 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import set_clock  # noqa: E402
from app.consent.models import ConsentEvent  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notify.models import Campaign, Delivery  # noqa: E402
from app.notify.states import DeliveryState  # noqa: E402
from bench._common import free_port, load  # noqa: E402
from bench._learning_audit import Audit, audit_promises  # noqa: E402
from bench._learning_sim import Outcome, Run, SimClock  # noqa: E402
from bench._learning_world import (  # noqa: E402
    Article,
    Reader,
    add_readers,
    make_articles,
    make_readers,
    write_content,
)
from bench._smtp_sink import read_saved, start_sink  # noqa: E402

START = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
BUDGET_ENGAGEMENT, BUDGET_IGNORED = 1.5, 0.5


@dataclass
class Figures:
    sent: int
    engaged: int
    ignored: int
    unsubscribes: int
    not_for_me: int
    audit: Audit
    outcome: Outcome
    seconds: float
    campaigns: dict[str, int]
    held: dict[str, int]  # deliveries the gate held back at send time, by reason
    left_out: dict[str, int]  # members left out when the outboxes were filled, by reason

    @property
    def rate(self) -> float:
        return self.engaged / self.sent if self.sent else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated, one world each")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument(
        "--jobs", type=int, default=2, help="simulations run at once, one process each"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    print(f"features in this tree: {features()}")
    violations = 0
    totals: dict[bool, list[Figures]] = {False: [], True: []}
    with (
        tempfile.TemporaryDirectory(prefix="pullfirst-learning-") as folder,
        ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool,
    ):
        runs = {}
        for seed in seeds:
            rng = random.Random(seed)
            readers = make_readers(rng, args.members)
            articles = make_articles(rng, START, args.weeks)
            place = Path(folder) / f"seed-{seed}"
            content = write_content(place, articles, START)
            for learning in (False, True):
                runs[(seed, learning)] = pool.submit(
                    simulate, place, content, readers, articles, seed, args.weeks, learning
                )
        for seed in seeds:
            plain, learned = runs[(seed, False)].result(), runs[(seed, True)].result()
            report(f"seed {seed}", args.members, args.weeks, plain, learned)
            totals[False].append(plain)
            totals[True].append(learned)
            violations += plain.audit.total + learned.audit.total
    if len(seeds) > 1:
        plain, learned = combined(totals[False]), combined(totals[True])
        report(f"seeds {args.seeds} together", args.members, args.weeks, plain, learned)
    if violations:
        raise SystemExit(f"{violations} promise violations")


def features() -> str:
    """Which parts of learning the app in this tree has (the bench uses what is there)."""
    from app.consent.terms import GateReason

    found = {
        "digest": importlib.util.find_spec("app.notify.digest") is not None,
        "targeting": importlib.util.find_spec("app.notify.targeting") is not None,
        "resting": "RESTING" in GateReason.__members__,
        "own hour": "TIMING" in GateReason.__members__,
    }
    return ", ".join(f"{name} {'yes' if there else 'NO'}" for name, there in found.items())


def combined(runs: list[Figures]) -> Figures:
    audit = Audit()
    outcome = Outcome()
    for run in runs:
        audit.checked += run.audit.checked
        audit.violations.update(run.audit.violations)
        outcome.reads += run.outcome.reads
        outcome.answered += run.outcome.answered
        outcome.fresh += run.outcome.fresh
    return Figures(
        sent=sum(r.sent for r in runs),
        engaged=sum(r.engaged for r in runs),
        ignored=sum(r.ignored for r in runs),
        unsubscribes=sum(r.unsubscribes for r in runs),
        not_for_me=sum(r.not_for_me for r in runs),
        audit=audit,
        outcome=outcome,
        seconds=sum(r.seconds for r in runs),
        campaigns={},
        held={},
        left_out={},
    )


def simulate(
    place: Path,
    content: Path,
    readers: list[Reader],
    articles: list[Article],
    seed: int,
    weeks: int,
    learning: bool,
) -> Figures:
    """One policy's twelve weeks, in a folder of its own (run in a process of the pool)."""
    folder = place / ("learned" if learning else "plain")
    folder.mkdir()
    port, mailbox = free_port(), folder / "received.bin"
    mailbox.touch()
    sink = start_sink(port, mailbox)
    os.environ["PULLFIRST_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "CONTENT_DIR": str(content),
            "SECRET_KEY": "b" * 32,
            "STICKERS_DIR": str(folder / "no-stickers"),
            "MAIL_URL": f"smtp://127.0.0.1:{port}",
            "BASE_URL": "https://pullfirst.example",
            "LOG_LEVEL": "WARNING",
            "NOTIFY_LEARNING": learning,
        }
    )
    clock = SimClock(START)
    set_clock(app, clock)
    started = time.perf_counter()
    try:
        with app.app_context():
            migrate.upgrade(db.engine)
            ids = add_readers(readers, START - timedelta(days=7))
            run = Run(
                app,
                clock,
                mailbox,
                readers,
                ids,
                articles,
                learning=learning,
                seed=seed,
                weeks=weeks,
            )
        outcome = run.run()
        seconds = time.perf_counter() - started
        with app.app_context():
            mailed = [_delivery_of(raw) for raw in read_saved(mailbox)]
            audit = audit_promises(mailed)
            engaged = db.session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.clicked_at.is_not(None))
            )
            unsubscribes = db.session.scalar(
                select(func.count())
                .select_from(ConsentEvent)
                .where(ConsentEvent.action == "revoke", ConsentEvent.source == "unsubscribe-link")
            )
            campaigns = {
                f"{scope}{' digests' if digest else ''}": count
                for scope, digest, count in db.session.execute(
                    select(Campaign.scope, Campaign.digest, func.count()).group_by(
                        Campaign.scope, Campaign.digest
                    )
                ).all()
            }
            held = {
                str(reason): count
                for reason, count in db.session.execute(
                    select(Delivery.reason, func.count())
                    .where(Delivery.state == DeliveryState.SUPPRESSED)
                    .group_by(Delivery.reason)
                ).all()
            }
            left_out: Counter[str] = Counter()
            for (audience,) in db.session.execute(select(Campaign.audience)).all():
                for counts in json.loads(audience or "{}").values():
                    left_out.update(counts.get("excluded", {}))
            figures = Figures(
                sent=audit.checked,
                engaged=engaged or 0,
                ignored=outcome.off_topic,
                unsubscribes=unsubscribes or 0,
                not_for_me=outcome.not_for_me,
                audit=audit,
                outcome=outcome,
                seconds=seconds,
                campaigns=campaigns,
                held=held,
                left_out=dict(left_out),
            )
            db.session.close()
            db.engine.dispose()
    finally:
        sink.terminate()
        sink.wait(timeout=30)
    return figures


def _delivery_of(raw: bytes) -> int:
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    for line in head.split(b"\n"):
        if line.lower().startswith(b"x-pullfirst-delivery:"):
            return int(line.split(b":", 1)[1])
    raise SystemExit("a mail in the sink names no delivery")


def report(title: str, members: int, weeks: int, plain: Figures, learned: Figures) -> None:
    def ratio(a: float, b: float) -> float:
        return a / b if b else float("inf")

    engagement = ratio(learned.rate, plain.rate)
    ignored = ratio(learned.ignored, plain.ignored)
    print(f"{title}: {members} readers, {weeks} weeks (load {load()})")
    print(f"  {'':<46}{'plain':>14}{'learned':>14}   learned/plain, budget")
    rows = [
        ("messages sent", f"{plain.sent:,}", f"{learned.sent:,}", ""),
        (
            "engaged (link followed) / sent",
            f"{plain.engaged:,} {plain.rate:6.1%}",
            f"{learned.engaged:,} {learned.rate:6.1%}",
            f"{engagement:.2f}x, at least {BUDGET_ENGAGEMENT}x: "
            + ("met" if engagement >= BUDGET_ENGAGEMENT else "MISSED"),
        ),
        (
            "sent to readers who would ignore them",
            f"{plain.ignored:,}",
            f"{learned.ignored:,}",
            f"{ignored:.2f}x, at most {BUDGET_IGNORED}x: "
            + ("met" if ignored <= BUDGET_IGNORED else "MISSED"),
        ),
        (
            "arrived in the reader's mail time",
            f"{plain.outcome.fresh:,} {ratio(plain.outcome.fresh, plain.sent):6.1%}",
            f"{learned.outcome.fresh:,} {ratio(learned.outcome.fresh, learned.sent):6.1%}",
            "",
        ),
        ("unsubscribes", f"{plain.unsubscribes:,}", f"{learned.unsubscribes:,}", ""),
        ('"not for me"', f"{plain.not_for_me:,}", f"{learned.not_for_me:,}", ""),
        (
            "promise violations (messages audited)",
            f"{plain.audit.total} ({plain.audit.checked:,})",
            f"{learned.audit.total} ({learned.audit.checked:,})",
            "none: " + ("met" if plain.audit.total + learned.audit.total == 0 else "MISSED"),
        ),
        (
            "articles read on the site / survey answers",
            f"{plain.outcome.reads:,} / {plain.outcome.answered}",
            f"{learned.outcome.reads:,} / {learned.outcome.answered}",
            "",
        ),
        ("simulation time", f"{plain.seconds:.0f} s", f"{learned.seconds:.0f} s", ""),
    ]
    for label, a, b, budget in rows:
        print(f"  {label:<46}{a:>14}{b:>14}   {budget}".rstrip())
    for name, figures in (("plain", plain), ("learned", learned)):
        campaigns = ", ".join(f"{k} {v}" for k, v in sorted(figures.campaigns.items()))
        if campaigns:
            print(f"  {name} campaigns: {campaigns}")
        for what, counts in (
            ("left out when the outbox was filled", figures.left_out),
            ("held back at send time", figures.held),
        ):
            if counts:
                listed = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
                print(f"  {name}, {what}: {listed}")
        for example in figures.audit.examples:
            print(f"  {name} violation: {example}")


if __name__ == "__main__":
    main()
