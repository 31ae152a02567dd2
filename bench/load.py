"""Load and soak: the whole product under mixed traffic, on PostgreSQL, with a campaign going out.

    .venv/bin/python bench/load.py                 # 5 minutes (the soak)
    .venv/bin/python bench/load.py --duration 30   # the smoke run CI does

It makes a scratch PostgreSQL database, seeds members, consents and in-store codes, starts
gunicorn (2 workers, Redis for rate-limit counters), the notifier worker and a real SMTP sink
(aiosmtpd), sends a campaign to a few thousand members, and meanwhile drives the site from
``--users`` simulated browsers:

- 80% reads: articles, site search, the home page, tag pages;
- 10% sign-ins;
- 5% survey submissions and in-store code redemptions (each by a member who has not done it);
- 5% preference changes (a permission switched on or off on the permissions page).

It prints requests per second, p50, p95 and p99 per route and the error count, then checks that
nothing was lost: every accepted survey answer is a response row, every accepted redemption a
redemption row, every accepted permission change a consent event, and every delivery of the
campaign reached the SMTP sink exactly once (by Message-ID). It exits 1 when any check fails or
any request errs. Rate limits are raised for the run: it measures capacity, not the limits.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench._common import unscheduled_content  # noqa: E402

PASSWORD = "load test password 2026"  # noqa: S105 - the seeded members of a scratch database
SURVEY = "reader-2026"
BATCH = "load-store"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIGH = "1000000 per minute"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the SMTP sink ----------------------------------------------------------------------------


class Sink:
    """A real SMTP server on loopback that counts messages by Message-ID."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = re.search(rb"(?im)^Message-ID:\s*(\S+)", envelope.content)
        with self.lock:
            self.ids[match.group(1).decode() if match else "?"] += 1
        return "250 OK"


# --- set-up -----------------------------------------------------------------------------------


@dataclass
class Seeded:
    members: list[str]  # fresh members for survey answers and redemptions (popped)
    regulars: list[str]  # members who sign in and change their permissions
    codes: list[str]
    audience: int
    campaign_id: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self) -> str | None:
        with self.lock:
            return self.members.pop() if self.members else None

    def code(self) -> str | None:
        with self.lock:
            return self.codes.pop() if self.codes else None


def create_database(server: str) -> str:
    import psycopg

    name = f"pullfirst_load_{int(time.time())}_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return name


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed(fresh: int, regulars: int, audience: int) -> Seeded:
    """Members, consents granted three days ago, codes, and a draft campaign, through the
    areas' own functions (the password hash is computed once and shared)."""
    from sqlalchemy import insert

    from app import create_app
    from app.accounts.members import email_key
    from app.accounts.models import Member
    from app.accounts.passwords import hash_password
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import find_scope
    from app.database import migrate
    from app.engage.actions import record_action
    from app.engage.redemption import issue_codes
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign

    app = create_app()
    now = datetime.now(UTC)
    past = now - timedelta(days=3)
    with app.app_context():
        migrate.upgrade(db.engine)
        hashed = hash_password(PASSWORD)
        groups = {"fresh": fresh, "regular": regulars, "audience": audience}
        emails: dict[str, list[str]] = {}
        for group, count in groups.items():
            emails[group] = [f"{group}{i}@load.example" for i in range(count)]
            db.session.execute(
                insert(Member),
                [
                    {
                        "email": e,
                        "email_key": email_key(e),
                        "password_hash": hashed,
                        "display_name": f"{group.title()} {i}",
                        "time_zone": "UTC",
                        "role": "member",
                        "created_at": past,
                        "email_verified_at": past,
                        "password_changed_at": past,
                    }
                    for i, e in enumerate(emails[group])
                ],
            )
        db.session.commit()
        newsletter = find_scope("newsletter")
        assert newsletter is not None
        from sqlalchemy import select

        ids = dict(db.session.execute(select(Member.email, Member.id)).all())
        for email in emails["regular"] + emails["audience"]:
            record_action(ids[email], "account", past)  # earns scope:newsletter
        for email in emails["audience"]:
            grant_consent(
                ids[email],
                newsletter,
                "email",
                newsletter.wording,
                Origin("admin", "/bench/load"),
                past,
            )
        db.session.commit()
        issued = issue_codes(BATCH, fresh, now=now)
        codes = list(issued.codes)
        campaign = create_campaign(
            Draft(
                title="This week in the Journal",
                body="Three articles worth your time: "
                "[pull before push](/posts/pull-before-push/).",
                scope="newsletter",
                kind="editorial",
                channels=("email",),
            ),
            None,
            now,
        )
        db.session.commit()
        campaign_id = campaign.id
        db.engine.dispose()
    return Seeded(emails["fresh"], emails["regular"], codes, audience, campaign_id)


# --- the simulated browsers -------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: defaultdict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.accepted: Counter[str] = Counter()

    def record(self, route: str, seconds: float) -> None:
        with self.lock:
            self.latencies[route].append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def accept(self, what: str) -> None:
        with self.lock:
            self.accepted[what] += 1


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """One visitor: cookies, CSRF tokens, timing per route."""

    def __init__(self, base: str, stats: Stats, regulars: list[str]) -> None:
        # Each browser signs in as its own members only: two browsers changing one member's
        # permission at once would make one change a no-op and the count of events unfair.
        self.base, self.stats, self.regulars = base, stats, regulars
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        self.member: str | None = None

    def request(
        self,
        route: str,
        path: str,
        data: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                status, text, location = response.status, response.read().decode(), ""
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
            location = exc.headers.get("Location", "")
        except OSError as exc:
            self.stats.record(route, time.perf_counter() - started)
            self.stats.error(f"{route} {path}: {exc}")
            return 0, "", ""
        self.stats.record(route, time.perf_counter() - started)
        if status not in expect:
            self.stats.error(f"{route} {path}: HTTP {status}")
        return status, text, location

    def form(
        self,
        route: str,
        page: str,
        action: str,
        fields: dict[str, Any],
        expect: tuple[int, ...] = (302,),
    ) -> int:
        _, html, _ = self.request("GET " + page.split("?")[0], page)
        token = CSRF.search(html)
        if token is None:
            self.stats.error(f"{page}: no CSRF token")
            return 0
        status, _, _ = self.request(route, action, {**fields, "csrf_token": token.group(1)}, expect)
        return status

    def sign_in(self, email: str) -> bool:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        ok = (
            self.form("POST /signin", "/signin", "/signin", {"email": email, "password": PASSWORD})
            == 302
        )
        self.member = email if ok else None
        return ok


ARTICLES = [
    "pull-before-push",
    "permission-is-earned",
    "quiet-hours",
    "consent-ledger",
    "silence-means-stop",
    "sticker-packs-as-rewards",
    "make-leaving-easy",
]
WORDS = [
    "permission",
    "consent",
    "sticker",
    "quiet hours",
    "ledger",
    "survey",
    "reply",
    "pull content",
    "unsubscribe",
    "rewards",
]


def read(b: Browser, seeded: Seeded) -> None:
    roll = random.random()
    if roll < 0.5:
        b.request("GET /posts/<slug>/", f"/posts/{random.choice(ARTICLES)}/")
    elif roll < 0.8:
        q = urllib.parse.quote(random.choice(WORDS))
        b.request("GET /search", f"/search?q={q}")
    elif roll < 0.92:
        b.request("GET /", "/")
    else:
        b.request("GET /tags/<tag>/", "/tags/consent/")


def sign_in(b: Browser, seeded: Seeded) -> None:
    b.sign_in(random.choice(b.regulars))


def answer_survey(b: Browser, seeded: Seeded) -> None:
    email = seeded.fresh()
    if email is None or not b.sign_in(email):
        return
    answers = {
        "q.role": "Editorial or content",
        "q.topics": ["Email deliverability"],
        "q.usefulness": str(random.randint(1, 5)),
        "q.recommend": str(random.randint(0, 10)),
        "q.next-article": "More on replies.",
    }
    if (
        b.form("POST /surveys/<slug>/", f"/surveys/{SURVEY}/", f"/surveys/{SURVEY}/", answers)
        == 302
    ):
        b.stats.accept("responses")


def redeem(b: Browser, seeded: Seeded) -> None:
    code, email = seeded.code(), seeded.fresh()
    if code is None or email is None or not b.sign_in(email):
        return
    if b.form("POST /redeem", "/redeem", "/redeem", {"code": code}) == 302:
        b.stats.accept("redemptions")


CHOICES = re.compile(
    r'<form method="post" action="(/me/permissions/newsletter/choices)"[^>]*>(.*?)</form>', re.S
)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
SWITCH = re.compile(
    r'<input type="checkbox" role="switch"[^>]*name="channel" value="([^"]+)"([^>]*)>'
)


def change_permission(b: Browser, seeded: Seeded) -> None:
    """Switch the weekly letter's inbox channel on or off with the page's one control."""
    if b.member is None or not b.member.startswith("regular"):
        b.sign_in(random.choice(b.regulars))
    _, html, _ = b.request("GET /me/permissions", "/me/permissions")
    match = CHOICES.search(html)
    if match is None:
        b.stats.error("permissions page: no newsletter control")
        return
    fields: dict[str, Any] = dict(HIDDEN.findall(match.group(2)))
    on = [channel for channel, rest in SWITCH.findall(match.group(2)) if " checked" in rest]
    fields["channel"] = [c for c in on if c != "inbox"] if "inbox" in on else [*on, "inbox"]
    status, _, _ = b.request(
        "POST /me/permissions/<scope>/choices", match.group(1), fields, expect=(302, 303)
    )
    if status in (302, 303):
        b.stats.accept("consent events")


MIX: list[tuple[float, Callable[[Browser, Seeded], None]]] = [
    (0.80, read),
    (0.10, sign_in),
    (0.025, answer_survey),
    (0.025, redeem),
    (0.05, change_permission),
]


def drive(
    base: str, seeded: Seeded, stats: Stats, until: float, seed_value: int, users: int
) -> None:
    random.seed(seed_value)
    browser = Browser(base, stats, seeded.regulars[seed_value::users])
    weights = [w for w, _ in MIX]
    actions = [a for _, a in MIX]
    while time.monotonic() < until:
        random.choices(actions, weights)[0](browser, seeded)


# --- the run ----------------------------------------------------------------------------------


def wait_for(url: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - our own http URL
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                sys.exit("gunicorn stopped:\n" + log.read_text())
            time.sleep(0.3)
    sys.exit(f"{url} did not answer in {seconds:.0f} s:\n" + log.read_text())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(stats: Stats, elapsed: float) -> None:
    total = sum(len(v) for v in stats.latencies.values())
    print(f"\n{total:,} requests in {elapsed:.0f} s: {total / elapsed:,.1f} requests/s")
    print(f"{'route':<42} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for route, values in sorted(stats.latencies.items(), key=lambda item: -len(item[1])):
        print(
            f"{route:<42} {len(values):>7} {1000 * statistics.median(values):>8.1f} "
            f"{1000 * percentile(values, 0.95):>8.1f} {1000 * percentile(values, 0.99):>8.1f}"
        )
    print(f"errors: {len(stats.errors)}")
    for message in stats.errors[:20]:
        print("  " + message)


def count_rows(campaign_id: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from app import create_app
    from app.consent.models import ConsentEvent
    from app.engage.models import Redemption, SurveyResponse
    from app.extensions import db
    from app.notify.models import Delivery

    app = create_app()
    with app.app_context():
        counts: dict[str, Any] = {
            "responses": db.session.scalar(select(func.count()).select_from(SurveyResponse)),
            "redemptions": db.session.scalar(select(func.count()).select_from(Redemption)),
            "consent events": db.session.scalar(
                select(func.count()).select_from(ConsentEvent).where(ConsentEvent.source != "admin")
            ),
            "deliveries": dict(
                (str(state), count)
                for state, count in db.session.execute(
                    select(Delivery.state, func.count())
                    .where(Delivery.campaign_id == campaign_id)
                    .group_by(Delivery.state)
                ).all()
            ),
        }
        db.engine.dispose()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of traffic")
    parser.add_argument("--users", type=int, default=16, help="simulated browsers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--audience", type=int, default=3000, help="campaign recipients")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server (a scratch database is made and dropped)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/14",
        help="Redis database for the rate-limit counters (flushed)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pullfirst-load-"))
    database = create_database(args.postgres)
    port = free_port()
    sink = Sink()
    sink.controller.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLFIRST_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "PULLFIRST_INSTANCE_PATH": str(work / "instance"),
            "PULLFIRST_CONTENT_DIR": str(unscheduled_content(work)),
            "PULLFIRST_DATABASE_URL": f"{args.postgres}/{database}",
            "PULLFIRST_BASE_URL": f"http://127.0.0.1:{port}",
            "PULLFIRST_MAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "PULLFIRST_SECRET_KEY": secrets.token_hex(32),
            "PULLFIRST_RATELIMIT_STORAGE_URI": args.redis,
            "PULLFIRST_LOG_LEVEL": "WARNING",
            "PULLFIRST_BIND": f"127.0.0.1:{port}",
            "PULLFIRST_WORKERS": str(args.workers),
            **{
                f"PULLFIRST_{name}": HIGH
                for name in (
                    "RATELIMIT_AUTH_IP",
                    "RATELIMIT_AUTH_ACCOUNT",
                    "RATELIMIT_REDEEM_IP",
                    "RATELIMIT_REDEEM_MEMBER",
                )
            },
        }
    )
    os.environ.update(env)
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    expected_actions = int(args.duration * args.users * 6 * 0.05) + 200
    processes: list[subprocess.Popen[bytes]] = []
    try:
        print(
            f"seeding {database}: {args.audience} campaign recipients, "
            f"{expected_actions} fresh members and codes …",
            flush=True,
        )
        seeded = seed(expected_actions, 200, args.audience)
        flask = [str(REPO / ".venv/bin/flask"), "--app", "app"]
        subprocess.run(
            [*flask, "content", "index"], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL
        )
        web_log = work / "gunicorn.log"
        with web_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [
                        str(REPO / ".venv/bin/gunicorn"),
                        "-c",
                        "deploy/gunicorn.conf.py",
                        "app:create_app()",
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(f"http://127.0.0.1:{port}/", 60, processes[0], web_log)
        worker_log = work / "worker.log"
        with worker_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [*flask, "notify", "worker"],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
            sender = subprocess.Popen(
                [*flask, "notify", "send", str(seeded.campaign_id)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        stats = Stats()
        until = time.monotonic() + args.duration
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=drive, args=(f"http://127.0.0.1:{port}", seeded, stats, until, n, args.users)
            )
            for n in range(args.users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        report(stats, elapsed)
        sender.wait(timeout=600)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # let the worker finish what is left
            counts = count_rows(seeded.campaign_id)
            if not {"queued", "leased", "retry"} & set(counts["deliveries"]):
                break
            time.sleep(2)
        return verify(counts, stats, seeded, sink)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        sink.controller.stop()
        drop_database(args.postgres, database)
        shutil.rmtree(work, ignore_errors=True)


def verify(counts: dict[str, Any], stats: Stats, seeded: Seeded, sink: Sink) -> int:
    print("\nnothing lost:")
    failures = 0
    for what in ("responses", "redemptions", "consent events"):
        ok = counts[what] == stats.accepted[what]
        failures += not ok
        print(
            f"  {what:<15} accepted {stats.accepted[what]:>6}   stored {counts[what]:>6}   "
            f"{'ok' if ok else 'MISMATCH'}"
        )
    sent = counts["deliveries"].get("sent", 0)
    received = sum(sink.ids.values())
    duplicates = sum(n - 1 for n in sink.ids.values() if n > 1)
    ok = sent == seeded.audience == len(sink.ids)
    failures += not ok
    print(
        f"  deliveries      audience {seeded.audience:>6}   sent {sent:>6}   received "
        f"{received} ({len(sink.ids)} distinct, {duplicates} duplicates)   "
        f"{'ok' if ok else 'MISMATCH'}  states: {counts['deliveries']}"
    )
    if stats.errors:
        failures += 1
    print("passed" if not failures else f"FAILED: {failures} checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
