"""Benchmark: ``audience()`` for a scope over 100,000 members with realistic histories, on
SQLite, beside a plain SQL count over the same tables.

The count joins the scope's consent states with members, entitlements and every contact of
the scope, which is the least any exact audience must read; the figure to watch is the ratio
(budget: under 1 s, and at most 5 times the count).

    .venv/bin/python bench/audience.py [--members 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app import create_app  # noqa: E402
from app.consent.audience import audience  # noqa: E402
from app.consent.scopes import get_scope  # noqa: E402
from app.database import migrate  # noqa: E402
from app.extensions import db  # noqa: E402

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)  # a Friday morning
FMT = "%Y-%m-%d %H:%M:%S.%f"
WORDS: dict[str, str] = {}  # the SHA-256 of each scope's current words, once the app is up


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FMT)


class History:
    """Rows of a realistic site: most members verified and earning the newsletter; a share
    saying yes per channel, some revoking, some coming back; weekly letters and monthly offers
    with engagement that varies by person; a few bounces, pauses, quiet hours and webhooks."""

    def __init__(self, members: int, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.n = members
        self.rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in (
            "members", "entitlements", "consent_subjects", "consent_events", "consent_states",
            "contacts", "suppressions", "consent_preferences", "scope_pauses",
            "webhook_endpoints")}
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
        rows["members"].append((m, email, email, None, "", rng.choice(
            ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")), "member", ts(joined),
            ts(joined + timedelta(minutes=5)) if verified else None, None, None,
            ts(NOW - timedelta(days=3)) if deleted else None))
        if not verified:
            return
        rows["consent_subjects"].append((m, m, "s" * 32, ts(joined), None))
        propensity = rng.betavariate(1.2, 2.0)  # how likely this person engages
        earned = {"newsletter": True, "offers": rng.random() < 0.25,
                  "new-stickers": rng.random() < 0.3}
        for scope, has in earned.items():
            if has:
                rows["entitlements"].append((m, f"scope:{scope}", "account", ts(joined)))
        if rng.random() < 0.005:
            rows["suppressions"].append((m, email, "hard-bounce", ts(NOW - timedelta(days=9))))
        if rng.random() < 0.12:
            paused = ts(NOW + timedelta(days=5)) if rng.random() < 0.15 else None
            rows["consent_preferences"].append((m, paused, 22 * 60, 7 * 60, ts(joined)))
        if rng.random() < 0.01:
            rows["webhook_endpoints"].append((m, m, f"https://hooks.example/{m}", "whsec_x",
                                              ts(joined), ts(joined), None, None))
        for scope, channels in (("newsletter", ("email", "inbox")),
                                ("offers", ("email", "inbox", "webhook")),
                                ("new-stickers", ("inbox", "email"))):
            if earned[scope]:
                self.consents(m, scope, channels, joined, propensity)

    def consents(self, m: int, scope: str, channels: tuple[str, ...], joined: datetime,
                 propensity: float) -> None:
        rng, rows = self.rng, self.rows
        granted_channels = []
        for channel in channels:
            if rng.random() > (0.5 if channel == "email" else 0.3):
                continue
            at = joined + timedelta(days=rng.uniform(0, 30))
            states = ["grant"] + (["revoke"] if rng.random() < 0.12 else []) + (
                ["grant"] if rng.random() < 0.3 else [])
            for action in states:
                self.event_id += 1
                at = min(at + timedelta(days=rng.uniform(0, 60)), NOW - timedelta(hours=1))
                rows["consent_events"].append((
                    self.event_id, f"r{self.event_id}", m, scope, channel, action, ts(at),
                    "preferences", None, "words", 1, WORDS[scope], None))
            granted = states[-1] == "grant"
            rows["consent_states"].append((m, scope, channel, granted, 1, WORDS[scope],
                                           ts(at) if granted else None, ts(at), self.event_id))
            if granted:
                granted_channels.append((channel, at))
        if granted_channels and rng.random() < 0.03:
            rows["scope_pauses"].append((m, scope, ts(NOW - timedelta(days=4)), None))
        self.contacts(m, scope, granted_channels, propensity)

    def contacts(self, m: int, scope: str, channels: list[tuple[str, datetime]],
                 propensity: float) -> None:
        rng, rows = self.rng, self.rows
        every = {"newsletter": 7, "offers": 30, "new-stickers": 21}[scope]
        for number in range(1, 13):
            sent = NOW - timedelta(days=every * number, hours=rng.uniform(0, 3))
            engaged = ts(sent + timedelta(hours=rng.uniform(1, 48))) \
                if rng.random() < propensity else None
            for channel, granted_at in channels:
                if sent > granted_at:
                    rows["contacts"].append((m, scope, channel, f"{scope}-{number}",
                                             "editorial", f"{m}-{scope}-{number}-{channel}",
                                             ts(sent), engaged, engaged, None))

    def insert(self, connection: object) -> None:
        statements = {
            "members": "INSERT INTO members (id, email, email_key, password_hash, display_name,"
                       " time_zone, role, created_at, email_verified_at, password_changed_at,"
                       " last_sign_in_at, deleted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            "entitlements": "INSERT INTO entitlements (member_id, reward, earned_by, earned_at)"
                            " VALUES (?,?,?,?)",
            "consent_subjects": "INSERT INTO consent_subjects VALUES (?,?,?,?,?)",
            "consent_events": "INSERT INTO consent_events (id, receipt, subject_id, scope,"
                              " channel, action, at, source, page, wording, wording_version,"
                              " wording_hash, client_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            "consent_states": "INSERT INTO consent_states (member_id, scope, channel, granted,"
                              " wording_version, wording_hash, granted_at, changed_at, event_id)"
                              " VALUES (?,?,?,?,?,?,?,?,?)",
            "contacts": "INSERT INTO contacts (member_id, scope, channel, campaign, kind, ref,"
                        " sent_at, engaged_at, last_engaged_at, engaged_how)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?)",
            "suppressions": "INSERT INTO suppressions (id, address_key, reason, at)"
                            " VALUES (?,?,?,?)",
            "consent_preferences": "INSERT INTO consent_preferences VALUES (?,?,?,?,?)",
            "scope_pauses": "INSERT INTO scope_pauses VALUES (?,?,?,?)",
            "webhook_endpoints": "INSERT INTO webhook_endpoints (id, member_id, url, secret,"
                                 " created_at, verified_at, disabled_at, disabled_reason)"
                                 " VALUES (?,?,?,?,?,?,?,?,?)",
        }
        raw = connection.connection.driver_connection  # type: ignore[attr-defined]
        for table, statement in statements.items():
            raw.executemany(statement, self.rows[table])


PLAIN_COUNT = """
SELECT count(*) FROM consent_states cs
JOIN members m ON m.id = cs.member_id
JOIN entitlements e ON e.member_id = cs.member_id AND e.reward = :reward
LEFT JOIN contacts c ON c.member_id = cs.member_id AND c.scope = :scope
WHERE cs.scope = :scope AND cs.channel = :channel AND cs.granted
"""


def timed(function: object, runs: int) -> tuple[float, object]:
    results, times = None, []
    for _ in range(runs):
        started = time.perf_counter()
        results = function()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pullfirst-bench-") as folder:
        run(Path(folder), args.members, args.runs)


def run(folder: Path, size: int, runs: int) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                      "CONTENT_DIR": str(REPO / "content"), "SECRET_KEY": "b" * 32})
    with app.app_context():
        migrate.upgrade(db.engine)
        WORDS.update({slug: get_scope(slug).wording_hash
                      for slug in ("newsletter", "offers", "new-stickers")})
        started = time.perf_counter()
        history = History(size)
        history.build()
        with db.engine.begin() as connection:
            history.insert(connection)
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        sizes = {k: len(v) for k, v in history.rows.items()}
        print(f"built {size:,} members in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in sizes.items() if v))
        for slug, channel in (("newsletter", "email"), ("newsletter", "inbox"),
                              ("offers", "email"), ("new-stickers", "inbox")):
            scope = get_scope(slug)
            params = {"reward": scope.reward, "scope": slug, "channel": channel}
            base, count = timed(
                lambda p=params: db.session.execute(text(PLAIN_COUNT), p).scalar(), runs)
            spent, members = timed(lambda s=scope, c=channel: audience(s, c, NOW), runs)
            db.session.rollback()
            print(f"{slug:>12} {channel:<6} audience {len(members):>6,} members "  # type: ignore[arg-type]
                  f"in {spent * 1000:7.1f} ms | plain count ({count:,} rows) "
                  f"{base * 1000:7.1f} ms | ratio {spent / base:4.2f}")
        db.session.close()
        db.engine.dispose()


if __name__ == "__main__":
    main()
