"""The world of ``bench/learning.py`` (not a benchmark itself): a content folder of articles on
six topics published week by week, a reader survey, two scopes, and readers with hidden
preferences, written into the database as verified members who said yes to both scopes.

The hidden preferences (:class:`Reader`) stay in the simulation: the app only ever sees what
the readers do (reads, survey answers, clicks, "not for me", unsubscribes).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from app.accounts.models import Member
from app.consent.models import ConsentEvent, ConsentPreferences, ConsentState, ConsentSubject
from app.consent.scopes import KNOWN, get_scope
from app.extensions import db
from app.rewards.models import Entitlement

REPO = Path(__file__).resolve().parent.parent
TOPICS = ("Gardening", "Cooking", "Cycling", "Photography", "Travel", "Music")
SURVEY = "bench-readers"
LETTER, OFFERS = "newsletter", "offers"
SCOPES = (LETTER, OFFERS)
ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
# Hours (local) at which a reader's mail-reading time may start; the time lasts two hours.
ACTIVE_STARTS = (6, 7, 8, 9, 12, 13, 16, 17, 19, 20)
QUIET = ((22 * 60, 7 * 60), (21 * 60, 8 * 60), (23 * 60, 9 * 60), (20 * 60, 6 * 60))
WORDS = (
    *("season", "small", "practical", "notes", "first", "guide", "quiet", "patient"),
    *("weekend", "honest", "simple", "slow", "field", "careful", "light", "long", "short"),
    *("better", "after", "before", "morning", "evening", "local", "common", "rare"),
)


@dataclass(frozen=True)
class Reader:
    """One member's hidden preferences: what only the simulation knows."""

    index: int
    email: str
    time_zone: str
    quiet: tuple[int, int] | None  # minutes after local midnight
    topics: frozenset[str]
    active_start: int  # local hour at which they read their mail, for two hours
    per_week: int  # messages a week they accept before it feels like too many
    tolerance: int  # irrelevant or too-frequent messages they take before unsubscribing
    answers_survey: bool
    reads_per_week: float


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    topic: str
    published_at: datetime


def make_readers(rng: random.Random, count: int) -> list[Reader]:
    readers = []
    for index in range(count):
        picked = rng.sample(TOPICS, rng.choice((1, 1, 2, 2, 3)))
        readers.append(
            Reader(
                index=index,
                email=f"reader{index}@bench.example",
                time_zone=rng.choice(ZONES),
                quiet=rng.choice(QUIET) if rng.random() < 0.4 else None,
                topics=frozenset(picked),
                active_start=rng.choice(ACTIVE_STARTS),
                per_week=rng.choice((1, 1, 2)),
                tolerance=rng.randint(3, 8),
                answers_survey=rng.random() < 0.8,
                reads_per_week=rng.uniform(0.5, 2.5),
            )
        )
    return readers


def make_articles(rng: random.Random, start: datetime, weeks: int) -> list[Article]:
    """A backlog of two weeks before ``start`` and 6 to 9 articles a week after it, each on one
    topic, published at any hour of the week."""
    articles = []
    for week in range(-2, weeks):
        for n in range(rng.randint(6, 9)):
            topic = rng.choice(TOPICS)
            at = start + timedelta(weeks=week, minutes=rng.randrange(7 * 24 * 60))
            words = " ".join(rng.sample(WORDS, 3))
            slug = f"{topic.lower()}-w{week + 2:02d}-{n}"
            articles.append(Article(slug, f"{topic} notes, {words} ({week + 2}.{n})", topic, at))
    return sorted(articles, key=lambda a: (a.published_at, a.slug))


def write_content(folder: Path, articles: list[Article], start: datetime) -> Path:
    """The bench's content folder: the test fixtures' site and pages, the articles, the
    survey and the two scopes. Returns it."""
    fixtures = REPO / "tests" / "fixtures" / "content"
    target = folder / "content"
    (target / "posts").mkdir(parents=True)
    (target / "surveys").mkdir()
    shutil.copytree(fixtures / "pages", target / "pages")
    shutil.copy(fixtures / "site.toml", target / "site.toml")
    for article in articles:
        (target / "posts" / f"{article.slug}.md").write_text(
            "---\n"
            f"title: {article.title}\n"
            f"description: A {article.topic.lower()} article for the learning benchmark.\n"
            f"date: {article.published_at:%Y-%m-%d %H:%M}\n"
            f"tags: [{article.topic}]\n"
            "---\n"
            f"Something worth reading about {article.topic.lower()}.\n\n"
            "A second paragraph, so the page has a body.\n",
            encoding="utf-8",
        )
    options = "".join(f"      - {topic}\n" for topic in TOPICS)
    (target / "surveys" / f"{SURVEY}.md").write_text(
        "---\n"
        "title: What do you want to read?\n"
        "description: One question about the topics you want.\n"
        f"opens_at: {start - timedelta(days=30):%Y-%m-%d}\n"
        f"closes_at: {start + timedelta(days=365):%Y-%m-%d}\n"
        "questions:\n"
        "  - id: topics\n"
        "    type: multi\n"
        "    label: Which topics do you want?\n"
        "    required: true\n"
        "    options:\n"
        f"{options}"
        "---\n"
        "Tell us what you want to read.\n",
        encoding="utf-8",
    )
    digest = "digest = 3\n" if "digest" in KNOWN else ""
    (target / "scopes.toml").write_text(
        f"[{LETTER}]\n"
        'title = "The weekly letter"\n'
        'about = "the three best new articles"\n'
        'consent_text = "Yes, send me the weekly letter. I can stop it at any time."\n'
        'channels = ["email"]\n'
        'earned_by = ["account"]\n'
        'kind = "editorial"\n'
        "max_per_week = 1\n"
        'days = ["fri"]\n'
        'send_window = "08:00-18:00"\n'
        f"{digest}\n"
        f"[{OFFERS}]\n"
        'title = "Member offers"\n'
        'about = "offers from the shop for members"\n'
        'consent_text = "Yes, tell me about member offers. I can stop them with one click."\n'
        'channels = ["email"]\n'
        'earned_by = ["account"]\n'
        'kind = "promotional"\n'
        "max_per_week = 1\n"
        "max_per_month = 2\n"
        'send_window = "09:00-20:00"\n'
        "cooldown_hours = 72\n"
        "pause_after_ignored = 4\n",
        encoding="utf-8",
    )
    return target


def add_readers(readers: list[Reader], since: datetime) -> dict[int, int]:
    """Write the readers as verified members in their time zones, with their quiet hours,
    holding both scopes and saying yes to them by email at ``since``. Returns member id by
    reader index. Commits."""
    db.session.execute(
        insert(Member),
        [
            {
                "email": r.email,
                "email_key": r.email,
                "created_at": since,
                "email_verified_at": since,
                "time_zone": r.time_zone,
            }
            for r in readers
        ],
    )
    by_email = {e: m for e, m in db.session.execute(select(Member.email, Member.id)).all()}
    ids = {r.index: by_email[r.email] for r in readers}
    members = list(ids.values())
    quiet = [(ids[r.index], r.quiet) for r in readers if r.quiet is not None]
    if quiet:
        db.session.execute(
            insert(ConsentPreferences),
            [
                {"member_id": m, "quiet_start": q[0], "quiet_end": q[1], "updated_at": since}
                for m, q in quiet
            ],
        )
    db.session.execute(
        insert(ConsentSubject),
        [{"member_id": m, "salt": "s" * 32, "created_at": since} for m in members],
    )
    subjects = {
        m: s for m, s in db.session.execute(select(ConsentSubject.member_id, ConsentSubject.id))
    }
    for slug in SCOPES:
        scope = get_scope(slug)
        db.session.execute(
            insert(Entitlement),
            [
                {"member_id": m, "reward": scope.reward, "earned_by": "account", "earned_at": since}
                for m in members
            ],
        )
        db.session.execute(
            insert(ConsentEvent),
            [
                {
                    "receipt": f"bench-{slug}-{m}",
                    "subject_id": subjects[m],
                    "scope": slug,
                    "channel": "email",
                    "action": "grant",
                    "at": since,
                    "source": "preferences",
                    "wording": scope.wording_for("email"),
                    "wording_version": scope.consent_version,
                    "wording_hash": scope.wording_hash_for("email"),
                }
                for m in members
            ],
        )
        events = {
            subject: event
            for subject, event in db.session.execute(
                select(ConsentEvent.subject_id, ConsentEvent.id).where(ConsentEvent.scope == slug)
            )
        }
        by_subject = {m: events[subjects[m]] for m in members}
        db.session.execute(
            insert(ConsentState),
            [
                {
                    "member_id": m,
                    "scope": slug,
                    "channel": "email",
                    "granted": True,
                    "wording_version": scope.consent_version,
                    "wording_hash": scope.wording_hash_for("email"),
                    "granted_at": since,
                    "changed_at": since,
                    "event_id": by_subject[m],
                }
                for m in members
            ],
        )
    db.session.commit()
    return ids
