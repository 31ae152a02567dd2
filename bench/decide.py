"""Benchmark: ``decide()`` per member, in decisions a second (target: over 20,000).

The facts are 20,000 members with histories like those of ``bench/audience.py`` (consents,
weekly letters with varying engagement, quiet hours, pauses), built in memory. The baseline is
the same loop doing only what any gate must: look the member up and return a decision.

    .venv/bin/python bench/decide.py [--members 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.consent.gate.rules import (
    Campaign,
    ConsentFact,
    ContactFact,
    Decision,
    Facts,
    MemberFacts,
    decide,
)
from app.consent.scopes import Scope

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
NEWSLETTER = Scope(
    slug="newsletter",
    title="The weekly letter",
    about="p",
    consent_text="yes",
    channels=("email", "inbox"),
    earned_by=("account",),
    kind="editorial",
    max_per_week=1,
    expires_after_days=365,
)


def member(m: int, rng: random.Random) -> MemberFacts:
    propensity = rng.betavariate(1.2, 2.0)
    granted_at = NOW - timedelta(days=rng.uniform(1, 400))
    consents = {
        ("newsletter", channel): ConsentFact(rng.random() < 0.85, 1, granted_at)
        for channel in ("email", "inbox")
        if rng.random() < 0.6
    }
    contacts = []
    for number in range(1, 13):
        sent = NOW - timedelta(days=7 * number, hours=rng.uniform(0, 3))
        engaged = sent + timedelta(hours=5) if rng.random() < propensity else None
        for channel in ("email", "inbox"):
            if ("newsletter", channel) in consents and sent > granted_at:
                contacts.append(
                    ContactFact(
                        "newsletter", f"letter-{number}", "editorial", sent, engaged, engaged
                    )
                )
    quiet = (22 * 60, 7 * 60) if rng.random() < 0.12 else (None, None)
    return MemberFacts(
        member_id=m,
        active=rng.random() > 0.01,
        email_verified=rng.random() < 0.92,
        email_suppressed=rng.random() < 0.005,
        time_zone=rng.choice(("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")),
        quiet_start=quiet[0],
        quiet_end=quiet[1],
        paused_until=NOW + timedelta(days=3) if rng.random() < 0.02 else None,
        earned=frozenset({"newsletter"}),
        consents=consents,
        not_for_me=frozenset({"newsletter"}) if rng.random() < 0.03 else frozenset(),
        contacts=tuple(contacts),
    )


def baseline(facts: Facts, campaign: Campaign, m: int, channel: str, now: datetime) -> Decision:
    found = facts.members.get(m)
    return Decision(found is not None, () if found is not None else ("account",))


def rate(function: object, facts: Facts, ids: list[int], rounds: int) -> tuple[float, int]:
    campaign = Campaign.of(NEWSLETTER, "letter-next")
    speeds, allowed = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        allowed = sum(
            function(facts, campaign, m, "email", NOW).allowed  # type: ignore[operator]
            for m in ids
        )
        speeds.append(len(ids) / (time.perf_counter() - started))
    return statistics.median(speeds), allowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(2026)
    facts = Facts({m: member(m, rng) for m in range(1, args.members + 1)}, daily_cap=3)
    ids = list(facts.members)
    contacts = sum(len(m.contacts) for m in facts.members.values())
    print(f"{len(ids):,} members, {contacts:,} deliveries in their histories")
    base, _ = rate(baseline, facts, ids, args.rounds)
    speed, allowed = rate(decide, facts, ids, args.rounds)
    print(f"decide   {speed:>12,.0f} decisions/s ({allowed:,} allowed of {len(ids):,})")
    print(f"baseline {base:>12,.0f} lookups/s (member lookup and a Decision)")
    print(f"ratio    {base / speed:12.1f} x the baseline's cost")


if __name__ == "__main__":
    main()
