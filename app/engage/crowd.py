"""Demo readers for ``flask serve``: a few dozen members who answered the reader survey and
read articles at their own hours, so a new marketer meets live survey charts, a targeting
filter that keeps somebody, and digests ranked by what each reader read.

They are made once, deterministically (the same answers on every new site), with addresses
under ``example.com`` that never receive mail; a later start leaves them alone.
"""

from __future__ import annotations

import random
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from app import clock
from app.accounts import members
from app.engage.actions import record_action
from app.engage.models import SurveyResponse
from app.engage.responses import shelf
from app.engage.surveys import Question
from app.extensions import db
from app.site.content import public_posts

CROWD = 36
ADDRESS = "demo.reader{n:02d}@example.com"
SURVEY = "reader-2026"
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC")
WISHES = (
    "How to ask for consent on a shop's till receipt",
    "A case study of a weekly letter people miss when it does not come",
    "Sticker packs that members actually use",
    "",
)


def _answer(question: Question, rng: random.Random) -> object:
    if question.type == "single":
        return rng.choice(question.options)
    if question.type == "multi":
        return sorted(rng.sample(question.options, rng.randint(1, 3)), key=question.options.index)
    if question.type == "text":
        return rng.choice(WISHES) or None
    low, high = question.scale[0], question.scale[-1]
    return min(high, max(low, round(rng.triangular(low, high, high - (high - low) / 4))))


def ensure_demo_crowd() -> str | None:
    """Create the demo readers once; None when they exist or the survey does not."""
    if members.find_by_email(ADDRESS.format(n=1)) is not None:
        return None
    survey = shelf().surveys.get(SURVEY)
    if survey is None:
        return None
    rng = random.Random(2026)  # noqa: S311 - demo data, the same on every new site
    now = clock.now()
    posts = [post for post in public_posts(now) if post.tags]
    answered = 0
    for n in range(1, CROWD + 1):
        joined = now - timedelta(days=rng.randint(20, 60))
        reader = members.create_member(
            ADDRESS.format(n=n), None, now=joined, display_name=f"Demo reader {n}", verified=True
        )
        zone = rng.choice(ZONES)
        members.update_profile(reader, reader.display_name, zone)
        hour = rng.choice((7, 8, 12, 13, 18, 19, 20, 21))  # when this reader reads, their time
        for post in rng.sample(posts, min(len(posts), rng.randint(0, 5))):
            day = (now - timedelta(days=rng.randint(1, 19))).astimezone(ZoneInfo(zone))
            at = day.replace(hour=hour, minute=rng.randint(0, 59)).astimezone(UTC)
            record_action(reader.id, f"read:{post.slug}", at)
        if rng.random() < 0.85:
            at = joined + timedelta(days=rng.randint(1, 15))
            db.session.add(
                SurveyResponse(
                    member_id=reader.id,
                    survey=survey.slug,
                    version=survey.version,
                    answers={q.id: _answer(q, rng) for q in survey.questions},
                    submitted_at=at,
                )
            )
            record_action(reader.id, survey.action, at)
            answered += 1
    db.session.commit()
    return f"created {CROWD} demo readers, {answered} with answers to {survey.title}"
