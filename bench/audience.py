"""Benchmark: ``audience()`` and the campaign preview's per-reason counts for a scope over
100,000 members with realistic histories, on SQLite and (with ``--postgres``) PostgreSQL,
beside a COUNT of the members who earned the scope and said yes to it in the same run.

The baseline is the least any exact audience must read: members whose current consent state
for the scope and channel is a grant to the current words and who hold the scope's
entitlement, counted in SQL. ``audience()`` reads that and every other fact of the gate (the
account, address, suppression, pauses, "not for me", cooldown, expiry, the weekly, monthly
and daily caps and the ignored-campaigns streak) and returns the members' ids; the preview
adds a count per reason for everyone left out, how many of the reached are deferred by quiet
hours or the scope's schedule, and a sample. Nothing is cached between runs: every figure
is the uncached one. Budget for both: under 1 s, and at most 3 times the baseline.

    .venv/bin/python bench/audience.py [--members 100000] [--runs 5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/aud_bench] [--sqlite-only]
        [--profile]

``--postgres`` empties that database (drops every table) and builds the same world in it.
``--profile`` prints the query plans (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) and a cProfile of
one preview for every missed budget.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.consent.gate.audience import audience  # noqa: E402
from app.consent.scopes import Scope, get_scope  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402
from app.notify.preview import preview_channel  # noqa: E402

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)  # a Friday morning, inside the letter's window
FMT = "%Y-%m-%d %H:%M:%S.%f"
BUDGET_SECONDS, BUDGET_RATIO = 1.0, 3.0
ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
)
QUIET = ((22 * 60, 7 * 60), (23 * 60, 6 * 60), (21 * 60, 8 * 60), (12 * 60, 14 * 60))
SCOPES = (
    ("newsletter", ("email", "inbox"), 7),
    ("offers", ("email", "inbox", "webhook"), 15),
    ("new-stickers", ("inbox", "email", "webhook"), 21),
)
CASES = (
    ("newsletter", "email"),
    ("newsletter", "inbox"),
    ("offers", "email"),
    ("new-stickers", "inbox"),
)
OLD_WORDS = "0" * 64
COLUMNS = {
    "members": (
        "id",
        "email",
        "email_key",
        "password_hash",
        "display_name",
        "time_zone",
        "role",
        "created_at",
        "email_verified_at",
        "password_changed_at",
        "last_sign_in_at",
        "deleted_at",
    ),
    "entitlements": ("member_id", "reward", "earned_by", "earned_at"),
    "consent_subjects": ("id", "member_id", "salt", "created_at", "pseudonymised_at"),
    "consent_events": (
        "id",
        "receipt",
        "subject_id",
        "scope",
        "channel",
        "action",
        "at",
        "source",
        "page",
        "wording",
        "wording_version",
        "wording_hash",
        "client_hash",
    ),
    "consent_states": (
        "member_id",
        "scope",
        "channel",
        "granted",
        "wording_version",
        "wording_hash",
        "granted_at",
        "changed_at",
        "event_id",
    ),
    "contacts": (
        "member_id",
        "scope",
        "channel",
        "campaign",
        "kind",
        "ref",
        "sent_at",
        "engaged_at",
        "last_engaged_at",
        "engaged_how",
    ),
    "suppressions": ("id", "address_key", "reason", "at"),
    "consent_preferences": ("member_id", "paused_until", "quiet_start", "quiet_end", "updated_at"),
    "scope_pauses": ("member_id", "scope", "not_for_me_at", "resumed_at"),
    "webhook_endpoints": (
        "id",
        "member_id",
        "url",
        "secret",
        "created_at",
        "verified_at",
        "disabled_at",
        "disabled_reason",
    ),
}


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FMT)


class History:
    """Rows of a realistic site. Most members are verified and hold the newsletter, a quarter
    the offers and a third the sticker notes; per channel a share says yes, some revoke and
    some come back (two to four ledger events each), a few said yes to older words; twelve
    weeks of letters, offers twice a month and sticker notes every three weeks, with extra
    sends this week for some (weekly and monthly caps) and a busy last day for a few (the
    daily cap); engagement varies by person, so the low-engaging are paused by their ignored
    streak; and a few bounces, pauses of everything, "not for me", resumes, quiet hours in
    several time zones and webhook endpoints."""

    def __init__(self, members: int, words: dict[str, str], seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.n = members
        self.words = words
        self.rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in COLUMNS}
        self.event_id = 0

    def build(self) -> None:
        for member_id in range(1, self.n + 1):
            self.member(member_id)

    def member(self, m: int) -> None:
        rng, rows = self.rng, self.rows
        joined = NOW - timedelta(days=rng.uniform(1, 700))
        verified = rng.random() < 0.92
        deleted = rng.random() < 0.01
        email = f"reader{m}@example.com"
        rows["members"].append(
            (
                m,
                email,
                email,
                None,
                "",
                rng.choice(ZONES),
                "member",
                ts(joined),
                ts(joined + timedelta(minutes=5)) if verified else None,
                None,
                None,
                ts(NOW - timedelta(days=3)) if deleted else None,
            )
        )
        if not verified:
            return
        rows["consent_subjects"].append((m, m, "s" * 32, ts(joined), None))
        propensity = rng.betavariate(1.2, 2.0)  # how likely this person engages
        earned = {
            "newsletter": True,
            "offers": rng.random() < 0.25,
            "new-stickers": rng.random() < 0.3,
        }
        for scope, has in earned.items():
            if has:
                rows["entitlements"].append((m, f"scope:{scope}", "account", ts(joined)))
        if rng.random() < 0.005:
            rows["suppressions"].append((m, email, "hard-bounce", ts(NOW - timedelta(days=9))))
        if rng.random() < 0.14:
            paused = ts(NOW + timedelta(days=5)) if rng.random() < 0.15 else None
            quiet = rng.choice(QUIET) if rng.random() < 0.85 else (None, None)
            rows["consent_preferences"].append((m, paused, *quiet, ts(joined)))
        if rng.random() < 0.01:
            disabled = ts(NOW - timedelta(days=2)) if rng.random() < 0.2 else None
            rows["webhook_endpoints"].append(
                (
                    m,
                    m,
                    f"https://hooks.example/{m}",
                    "whsec_x",
                    ts(joined),
                    ts(joined),
                    disabled,
                    None,
                )
            )
        for scope, channels, every in SCOPES:
            # A few said yes before losing the entitlement (a code refunded, a survey voided).
            if earned[scope] or rng.random() < 0.01:
                self.consents(m, scope, channels, every, joined, propensity)
        if rng.random() < 0.01:  # a busy day: announcements count against the daily cap
            for k in range(3):
                sent = NOW - timedelta(hours=rng.uniform(1, 20))
                rows["contacts"].append(
                    (
                        m,
                        "announcements",
                        "inbox",
                        f"announcement-{k}",
                        "editorial",
                        f"{m}-announcement-{k}",
                        ts(sent),
                        None,
                        None,
                        None,
                    )
                )

    def consents(
        self,
        m: int,
        scope: str,
        channels: tuple[str, ...],
        every: int,
        joined: datetime,
        propensity: float,
    ) -> None:
        rng, rows = self.rng, self.rows
        granted_channels = []
        for channel in channels:
            if rng.random() > (0.55 if channel == "email" else 0.35):
                continue
            at = joined + timedelta(days=rng.uniform(0, 30))
            actions = (
                ["grant"]
                + (["revoke"] if rng.random() < 0.15 else [])
                + (["grant"] if rng.random() < 0.35 else [])
                + (["grant"] if rng.random() < 0.3 else [])
            )  # said yes again to new words
            words = OLD_WORDS if rng.random() < 0.04 else self.words[scope]
            for action in actions:
                self.event_id += 1
                at = min(
                    at + timedelta(days=rng.uniform(0, 60)),
                    NOW - timedelta(hours=rng.uniform(1, 200)),
                )
                rows["consent_events"].append(
                    (
                        self.event_id,
                        f"r{self.event_id}",
                        m,
                        scope,
                        channel,
                        action,
                        ts(at),
                        "preferences",
                        None,
                        "words",
                        1,
                        words,
                        None,
                    )
                )
            granted = actions[-1] == "grant"
            rows["consent_states"].append(
                (
                    m,
                    scope,
                    channel,
                    granted,
                    1,
                    words,
                    ts(at) if granted else None,
                    ts(at),
                    self.event_id,
                )
            )
            if granted:
                granted_channels.append((channel, at))
        if granted_channels and rng.random() < 0.08:
            not_for_me = ts(NOW - timedelta(days=4)) if rng.random() < 0.4 else None
            resumed = ts(NOW - timedelta(days=rng.uniform(5, 60))) if not_for_me is None else None
            rows["scope_pauses"].append((m, scope, not_for_me, resumed))
        self.contacts(m, scope, every, granted_channels, propensity)

    def contacts(
        self,
        m: int,
        scope: str,
        every: int,
        channels: list[tuple[str, datetime]],
        propensity: float,
    ) -> None:
        rng, rows = self.rng, self.rows
        sends = [
            (f"{scope}-{n}", NOW - timedelta(days=every * n, hours=rng.uniform(0, 3)))
            for n in range(1, 85 // every + 1)
        ]
        if rng.random() < 0.1:  # a second send this week: the weekly cap holds them
            sends.append((f"{scope}-extra", NOW - timedelta(days=rng.uniform(0.5, 6))))
        for campaign, sent in sends:
            engaged = (
                ts(sent + timedelta(hours=rng.uniform(1, 48)))
                if rng.random() < propensity
                else None
            )
            for channel, granted_at in channels:
                if sent > granted_at:
                    rows["contacts"].append(
                        (
                            m,
                            scope,
                            channel,
                            campaign,
                            get_scope(scope).kind,
                            f"{m}-{campaign}-{channel}",
                            ts(sent),
                            engaged,
                            engaged,
                            "click" if engaged else None,
                        )
                    )

    def insert(self, connection: Any, postgres: bool) -> None:
        raw = connection.connection.driver_connection
        for table, columns in COLUMNS.items():
            names = ", ".join(columns)
            if postgres:
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
                ):
                    for row in self.rows[table]:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", self.rows[table])
        if postgres:  # the ids were given: move the sequences past them
            with raw.cursor() as cursor:
                for table in (
                    "members",
                    "consent_subjects",
                    "consent_events",
                    "suppressions",
                    "webhook_endpoints",
                ):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )


EARNED_AND_GRANTED = """
SELECT count(*) FROM consent_states cs
JOIN entitlements e ON e.member_id = cs.member_id AND e.reward = :reward
WHERE cs.scope = :scope AND cs.channel = :channel AND cs.granted
  AND cs.wording_version = :version AND cs.wording_hash = :hash
"""


def baseline_params(scope: Scope, channel: str) -> dict[str, object]:
    return {
        "reward": scope.reward,
        "scope": scope.slug,
        "channel": channel,
        "version": scope.consent_version,
        "hash": scope.wording_hash,
    }


def timed(function: Callable[[], object], runs: int) -> tuple[list[float], object]:
    """Seconds of each run (nothing is cached between them), and the last result."""
    result, times = None, []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
        db.session.rollback()
    return times, result


def verdict(seconds: float, base: float) -> str:
    met = seconds <= BUDGET_SECONDS and seconds <= BUDGET_RATIO * base
    return "MET" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on this PostgreSQL database (its tables are dropped)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print query plans and a cProfile for every missed budget",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pullfirst-bench-") as folder:
        urls = [("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")]
        if args.postgres and not args.sqlite_only:
            urls.append(("PostgreSQL", args.postgres))
        for name, url in urls:
            run(name, url, args.members, args.runs, args.profile)


def run(name: str, url: str, size: int, runs: int, profile: bool) -> None:
    app = create_app(
        {"DATABASE_URL": url, "CONTENT_DIR": str(REPO / "content"), "SECRET_KEY": "b" * 32}
    )
    postgres = url.startswith("postgresql")
    with app.app_context():
        if postgres:
            metadata = MetaData()
            metadata.reflect(db.engine)
            metadata.drop_all(db.engine)
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        history = History(size, {slug: get_scope(slug).wording_hash for slug, _, _ in SCOPES})
        history.build()
        with db.engine.begin() as connection:
            history.insert(connection, postgres)
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE" if postgres else "ANALYZE"
            )
        counts = {k: len(v) for k, v in history.rows.items()}
        print(
            f"\n{name}: built {size:,} members in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
        )
        print(
            f"median of {runs} runs, uncached (nothing is cached); budget: under "
            f"{BUDGET_SECONDS:.0f} s and at most {BUDGET_RATIO:.0f}x the baseline"
        )
        for slug, channel in CASES:
            measure(name, get_scope(slug), channel, runs, profile)
        db.session.close()
        db.engine.dispose()


def measure(name: str, scope: Scope, channel: str, runs: int, profile: bool) -> None:
    params = baseline_params(scope, channel)
    base_times, count = timed(
        lambda: db.session.execute(text(EARNED_AND_GRANTED), params).scalar(), runs
    )
    base = statistics.median(base_times)
    aud_times, members = timed(lambda: audience(scope, channel, NOW), runs)
    pre_times, preview = timed(lambda: preview_channel(scope, channel, NOW), runs)
    assert isinstance(members, set)
    label = f"{scope.slug}/{channel}"
    print(f"{label:<20} baseline COUNT of earned-and-granted: {count:>6,} in {base * 1000:7.1f} ms")
    for what, times, result in (
        ("audience()", aud_times, f"{len(members):,} members"),
        ("preview counts", pre_times, _preview_summary(preview)),
    ):
        spent = statistics.median(times)
        print(
            f"{'':<20} {what:<15} {spent * 1000:7.1f} ms (first run "
            f"{times[0] * 1000:7.1f} ms) | ratio {spent / base:5.2f}x | "
            f"{verdict(spent, base)} | {result}"
        )
        if profile and verdict(spent, base) == "MISSED":
            explain(name, scope, channel, what)


def _preview_summary(preview: object) -> str:
    reached = getattr(preview, "reached", 0)
    deferred = getattr(preview, "deferred", 0)
    excluded = getattr(preview, "excluded", {})
    return f"reached {reached:,}, deferred {deferred:,}, excluded " + ", ".join(
        f"{reason} {n:,}" for reason, n in excluded.items()
    )


def explain(name: str, scope: Scope, channel: str, what: str) -> None:
    """The plans of the statements one call runs, and where its Python time goes."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def remember(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    profiler = cProfile.Profile()
    profiler.enable()
    if what == "audience()":
        audience(scope, channel, NOW)
    else:
        preview_channel(scope, channel, NOW)
    profiler.disable()
    event.remove(db.engine, "before_cursor_execute", remember)
    db.session.rollback()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    print(out.getvalue())
    postgres = name == "PostgreSQL"
    raw = db.session.connection().connection.driver_connection
    for statement, parameters in statements:
        if not statement.lstrip().upper().startswith("SELECT"):
            if statement.startswith("SET"):  # the session settings the call ran with
                raw.cursor().execute(statement)
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        cursor = raw.cursor()
        cursor.execute(prefix + statement, parameters)
        print(statement.strip()[:400].replace("\n", " "), "...")
        for row in cursor.fetchall():
            print("   ", " | ".join(str(v) for v in row))
    db.session.rollback()


if __name__ == "__main__":
    main()
