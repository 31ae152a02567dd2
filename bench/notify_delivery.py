"""Benchmark: the worker delivering 5,000 emails to a local aiosmtpd sink, beside a script that
builds the same messages with the email package and sends them with smtplib, and beside raw
smtplib sending the very same bytes, each over one persistent connection, in the same run.

The worker (:class:`app.notify.worker.Worker`, in this process, on SQLite) does everything it
does in production for each delivery: lease, the gate run again on fresh consent, rendering
(tracked links, text and HTML parts, unsubscribe and why links), SMTP over one connection per
batch, and the result committed before the next delivery. Each round is a new campaign, so
the worker's once-per-campaign work (writing the mail with its holes) is inside the figure.
The sink runs in its own process and keeps every message; the baselines then send the same
messages again. Budgets: the worker reaches at least 90% of the building script's rate and at
least 50% of raw smtplib's.

    .venv/bin/python bench/notify_delivery.py [--messages 5000] [--rounds 5] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.mail.message import POLICY  # noqa: E402
from app.notify.campaigns import Draft, create_campaign, send_now  # noqa: E402
from app.notify.worker import Worker  # noqa: E402
from bench._common import free_port, load, unscheduled_content  # noqa: E402
from bench._notify_world import add_members  # noqa: E402
from bench._smtp_sink import read_saved, start_sink  # noqa: E402

BUDGETS = {"built": 0.90, "raw": 0.50}
BODY = (
    "Three articles for the weekend.\n\n"
    "- [How to read a label](https://pullfirst.example/posts/labels)\n"
    "- [Spring birds](https://pullfirst.example/stickers/spring-birds/)\n"
    "- [Why we ask first](/pages/about)\n\n"
    "Reply and tell us what you would like next."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="worker and baselines take turns, on a share of the messages each",
    )
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pullfirst-bench-") as folder:
        run(Path(folder), args.messages, args.rounds, args.batch)


def run(folder: Path, count: int, rounds: int, batch: int) -> None:
    port = free_port()
    saved = folder / "received.bin"
    sink = start_sink(port, saved)
    os.environ["PULLFIRST_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "CONTENT_DIR": str(unscheduled_content(folder)),
            "SECRET_KEY": "b" * 32,
            "STICKERS_DIR": str(folder / "no-stickers"),
            "MAIL_URL": f"smtp://127.0.0.1:{port}",
            "BASE_URL": "https://pullfirst.example",
        }
    )
    seconds = {"worker": 0.0, "built": 0.0, "raw": 0.0}
    ratios: dict[str, list[float]] = {"built": [], "raw": []}
    share = count // rounds
    try:
        with app.app_context():
            migrate.upgrade(db.engine)
            Worker(name="bench").tick(force=True)  # drafts from posts, the search index
            for number in range(rounds):
                worker = deliver(share, batch, number)
                messages = read_saved(saved)[-share:]
                assert len(messages) == share
                raw = raw_smtplib(port, messages)
                built = built_smtplib(port, messages)
                seconds["worker"] += worker
                seconds["raw"] += raw
                seconds["built"] += built
                ratios["raw"].append(raw / worker)
                ratios["built"].append(built / worker)
                print(
                    f"round {number + 1}: worker {1000 * worker / share:5.2f} ms/mail, "
                    f"smtplib building {1000 * built / share:5.2f}, sendmail of bytes "
                    f"{1000 * raw / share:5.2f} (load {load()})"
                )
            db.session.close()
            db.engine.dispose()
    finally:
        sink.terminate()
        sink.wait(timeout=30)
    total = share * rounds
    print(
        f"worker (lease, gate, render, build, send, commit)  {total / seconds['worker']:>6,.0f}"
        f" mails/s {1000 * seconds['worker'] / total:5.2f} ms each"
    )
    for key, label in (
        ("built", "smtplib building the same messages + send_message"),
        ("raw", "smtplib sendmail of the same bytes (wire only)"),
    ):
        ratio, budget = statistics.median(ratios[key]), BUDGETS[key]
        print(
            f"{label:<50} {total / seconds[key]:>6,.0f} mails/s "
            f"{1000 * seconds[key] / total:5.2f} ms each | worker at {ratio:.0%} (median of "
            f"rounds; budget {budget:.0%}: {'met' if ratio >= budget else 'MISSED'})"
        )
    print(f"{total:,} mails in {rounds} rounds")


def deliver(count: int, batch: int, number: int) -> float:
    """Seconds the worker takes to deliver a campaign to ``count`` new members."""
    now = datetime.now(UTC)
    add_members(count, now)
    campaign = create_campaign(
        Draft(
            f"Three articles for the weekend ({number + 1})",
            BODY,
            "newsletter",
            "editorial",
            ("email",),
        ),
        None,
        now,
    )
    send_now(campaign, now)
    db.session.commit()
    worker = Worker(name=f"bench-{number}", batch=batch)
    worker._last_tick = time.monotonic()  # housekeeping was done before the clock started
    started = time.perf_counter()
    totals = worker.run(once=True)
    spent = time.perf_counter() - started
    assert totals == {"sent": count}, totals
    return spent


def envelopes(messages: list[bytes]) -> list[tuple[str, str, bytes]]:
    parser = BytesHeaderParser()
    found = []
    for raw in messages:
        headers = parser.parsebytes(raw)
        found.append(
            (
                getaddresses([str(headers["From"])])[0][1],
                getaddresses([str(headers["To"])])[0][1],
                raw,
            )
        )
    return found


def raw_smtplib(port: int, messages: list[bytes]) -> float:
    """Seconds for the wire alone: ``sendmail`` of the received bytes, nothing built."""
    ready = envelopes(messages)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, raw in ready:
            smtp.sendmail(sender, [recipient], raw)
    return time.perf_counter() - started


def built_smtplib(port: int, messages: list[bytes]) -> float:
    """Seconds a plain smtplib script takes for the same messages: build each one with the
    standard library (the same headers, text and HTML parts, the app's line length) and
    ``send_message`` it."""
    parts = []
    for raw in messages:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        text = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        assert text is not None and html is not None
        headers = [
            (name, str(value))
            for name, value in parsed.items()
            if name not in ("Content-Type", "Content-Transfer-Encoding", "MIME-Version")
        ]
        parts.append((headers, text.get_content(), html.get_content()))  # type: ignore[attr-defined]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for headers, text, html in parts:
            mail = EmailMessage(policy=POLICY)
            for name, value in headers:
                mail[name] = value
            mail.set_content(text)
            mail.add_alternative(html, subtype="html")
            smtp.send_message(mail)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
