"""One run of ``bench/learning.py`` (not a benchmark itself): twelve simulated weeks of one
policy on a fresh database, with the real worker, a local SMTP sink and the app's clock.

Time moves from one thing that happens to the next (a delivery coming due, a campaign to
compose, a reader reading, answering or clicking), never faster than the app could see: the
clock is set to that moment, the worker runs until nothing is due, and every mail the sink
received is read by the reader it was for, who answers through the app's test client at the
moment they read it. Readers act on their hidden preferences; the app sees only what they do.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts import sessions
from app.accounts.models import Member
from app.engage.responses import get_survey, submit_response
from app.events import emit
from app.extensions import db
from app.notify.campaigns import Draft, create_campaign, send_now
from app.notify.models import Delivery
from app.notify.states import DeliveryState
from app.notify.tokens import read_click
from app.notify.worker import Worker
from app.site.content import public_posts
from app.site.events import ArticleRead
from bench._learning_world import LETTER, OFFERS, SURVEY, TOPICS, Article, Reader

BASE_URL = "https://pullfirst.example"
LINK = re.compile(r"https://pullfirst\.example(/[^\s)>\]]+)")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WAITING = (DeliveryState.QUEUED, DeliveryState.RETRY)
# Chances that a reader follows a link, by how many of their topics the message is about.
CLICK = {0: 0.03, 1: 0.45, 2: 0.6, 3: 0.7}
OFFER_CLICK = {0: 0.02, 1: 0.35}
STALE = 0.35  # a message that waited in the inbox until the reader's next mail time
CROWDED = 0.7  # more messages this week than the reader wants
NOT_FOR_ME = 0.12  # of messages about none of their topics
TICK = timedelta(hours=4)  # the worker's housekeeping (digests, finished campaigns), simulated


class SimClock:
    """The app's clock during a run: it stands still until the simulation moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


def optional(name: str) -> ModuleType | None:
    """A module of the app that may not exist yet in this tree (None then)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


@dataclass
class Mail:
    """A delivered message as the reader sees it, with what the simulation knows of it."""

    delivery_id: int
    member_id: int
    scope: str
    sent_at: datetime
    topics: list[str]  # of the articles or the offer it links to, in order
    links: list[str]  # the tracked links (paths), in the same order
    unsubscribe: str


@dataclass
class ReaderState:
    annoyance: int = 0
    received: list[datetime] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)


@dataclass
class Outcome:
    """What the simulation saw of one run (the audit reads the rest from the database)."""

    mails: int = 0
    off_topic: int = 0
    fresh: int = 0  # arrived in the hour before or during the reader's mail time
    clicks: int = 0
    not_for_me: int = 0
    unsubscribes: int = 0
    reads: int = 0
    answered: int = 0


class Run:
    def __init__(
        self,
        app: Flask,
        clock: SimClock,
        mailbox: Path,
        readers: list[Reader],
        ids: dict[int, int],
        articles: list[Article],
        *,
        learning: bool,
        seed: int,
        weeks: int,
    ) -> None:
        self.app, self.clock, self.mailbox = app, clock, mailbox
        self.readers = {ids[r.index]: r for r in readers}
        self.topic_of = {a.slug: a.topic for a in articles}
        self.learning, self.seed, self.weeks = learning, seed, weeks
        self.start = clock.current
        self.state = {m: ReaderState() for m in self.readers}
        self.rng = {m: random.Random(f"{seed}-{r.index}-answers") for m, r in self.readers.items()}
        self.clients: dict[int, FlaskClient] = {}
        # (when, order, what, whether it is a request of a reader's browser: those run
        # outside the simulation's app context, each in the app context of its request)
        self.queue: list[tuple[datetime, int, Callable[[], None], bool]] = []
        self.order = itertools.count()
        self.offset = 0
        self.outcome = Outcome()
        self.worker = Worker(name=f"bench-{'learned' if learning else 'plain'}")
        self.worker._last_tick = math.inf  # the simulation ticks it on the simulated clock
        self.digest = optional("app.notify.digest")

    # --- the loop ---------------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], None], *, web: bool = False) -> None:
        heapq.heappush(self.queue, (moment, next(self.order), action, web))

    def run(self) -> Outcome:
        end = self.start + timedelta(weeks=self.weeks)
        self._plan(end)
        last_tick: datetime | None = None
        while True:
            with self.app.app_context():
                due = self._next_due()
                moment = min(self.queue[0][0] if self.queue else end, due or end)
                if moment >= end:
                    break
                self.clock.current = max(moment, self.clock.current)
                if last_tick is None or self.clock.current - last_tick >= TICK:
                    self.worker.tick(force=True)
                    if last_tick is None or self.clock.current.date() != last_tick.date():
                        self.worker.close_channels()  # a fresh SMTP connection each day
                    last_tick = self.clock.current
                if due is not None and due <= self.clock.current:
                    # What Worker.run does until nothing is due, with the channels kept open
                    # from one simulated moment to the next (opening them costs 50 ms).
                    while sum(self.worker.run_batch(keep_open=True).values()):
                        pass
                    self._read_mail()
            while self.queue and self.queue[0][0] <= self.clock.current:
                _, _, action, web = heapq.heappop(self.queue)
                if web:
                    action()
                    continue
                with self.app.app_context():
                    action()
        self.clock.current = end
        with self.app.app_context():
            self.worker.close_channels()
        return self.outcome

    def _next_due(self) -> datetime | None:
        due = db.session.scalar(
            select(func.min(Delivery.due_at)).where(Delivery.state.in_(WAITING))
        )
        db.session.commit()
        return due

    def _plan(self, end: datetime) -> None:
        for week in range(self.weeks):
            monday = self.start + timedelta(weeks=week)
            self.at(monday + timedelta(days=1, hours=10), partial(self._offer, week))
            if self.digest is None:  # else the worker's tick makes it on Fridays
                self.at(monday + timedelta(days=3, hours=12), partial(self._letter, week))
        for member, reader in self.readers.items():
            rng = random.Random(f"{self.seed}-{reader.index}-reads")
            if reader.answers_survey:
                self.at(
                    self.start + timedelta(minutes=rng.randrange(48 * 60)),
                    partial(self._answer, member),
                )
            for week in range(self.weeks):
                for _ in range(_poisson(rng, reader.reads_per_week)):
                    day = self.start + timedelta(weeks=week, days=rng.randrange(7))
                    moment = _local_time(day, reader, rng.randrange(120))
                    if moment < end:
                        chance = rng.random()
                        self.at(moment, partial(self._browse, member, chance))

    # --- what the marketers send ------------------------------------------------------------

    def _offer(self, week: int) -> None:
        topic = TOPICS[week % len(TOPICS)]
        now = self.clock.current
        slug = topic.lower()
        draft = Draft(
            f"Members' week: {slug} at a tenth off",
            f"This week members get a tenth off everything for {slug}: "
            f"[see the {slug} offers]({BASE_URL}/shop/{slug}).",
            OFFERS,
            "promotional",
            ("email",),
            # The learned policy asks the app for the readers whose answer names the topic.
            audience_filter=f"survey:{SURVEY} topics has {topic}" if self.learning else None,
        )
        send_now(create_campaign(draft, None, now), now)
        db.session.commit()

    def _letter(self, week: int) -> None:
        """The weekly letter where the app has no digest yet: the three newest articles, the
        same for all (the worker's tick makes the digest on Fridays where it has one)."""
        now = self.clock.current
        posts = public_posts(now)[:3]
        body = "\n".join(f"- [{p.title}]({BASE_URL}/posts/{p.slug}/)" for p in posts)
        draft = Draft(
            f"The weekly letter, week {week + 1}",
            "Three new articles:\n\n" + body,
            LETTER,
            "editorial",
            ("email",),
        )
        send_now(create_campaign(draft, None, now), now)
        db.session.commit()

    # --- what readers do --------------------------------------------------------------------

    def _answer(self, member: int) -> None:
        reader = self.readers[member]
        chosen = [t for t in TOPICS if t in reader.topics]
        submit_response(member, get_survey(SURVEY), {"topics": chosen}, self.clock.current)
        db.session.commit()
        self.outcome.answered += 1

    def _browse(self, member: int, chance: float) -> None:
        """The reader opens an article of the last two weeks on one of their topics (one in
        ten times, on any topic), newest first, as the site records it."""
        reader, state = self.readers[member], self.state[member]
        now = self.clock.current
        recent = [
            p
            for p in public_posts(now)
            if p.published_at and p.published_at > now - timedelta(days=14)
        ]
        fitting = [
            p
            for p in recent
            if p.slug not in state.read
            and (chance < 0.1 or self.topic_of.get(p.slug) in reader.topics)
        ]
        if fitting:
            self._read_article(member, fitting[0].slug)

    def _read_article(self, member: int, slug: str) -> None:
        self.state[member].read.add(slug)
        emit(ArticleRead(member_id=member, slug=slug, at=self.clock.current))
        db.session.commit()
        self.outcome.reads += 1

    def _read_mail(self) -> None:
        data = self.mailbox.read_bytes()
        while self.offset < len(data):
            end = data.index(b"\n", self.offset)
            size = int(data[self.offset : end])
            raw = data[end + 1 : end + 1 + size]
            self.offset = end + 1 + size
            self._receive(message_from_bytes(raw))

    def _receive(self, message: Message) -> None:
        delivery_id = int(str(message["X-Pullfirst-Delivery"]))
        delivery = db.session.get_one(Delivery, delivery_id)
        scope = delivery.campaign.scope
        sent_at = delivery.sent_at or self.clock.current
        member = delivery.member_id
        db.session.commit()
        text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        payload = text.get_payload(decode=True)
        assert isinstance(payload, bytes)
        paths = LINK.findall(payload.decode(text.get_content_charset() or "utf-8"))
        links = [p for p in paths if p.startswith("/t/")]
        topics = [self._topic(p) for p in links]
        unsubscribe = next(p for p in paths if p.startswith("/u/"))
        mail = Mail(delivery_id, member, scope, sent_at, topics, links, unsubscribe)
        self.outcome.mails += 1
        self._respond(mail)

    def _topic(self, path: str) -> str:
        url = read_click(path.removeprefix("/t/")).url
        if "/shop/" in url:
            return url.rstrip("/").rsplit("/", 1)[-1].capitalize()
        return self.topic_of.get(url.rstrip("/").rsplit("/", 1)[-1], "")

    def _respond(self, mail: Mail) -> None:
        """Decide, from the reader's hidden preferences, what they will do with ``mail`` and
        when they will see it; schedule it."""
        reader, state, rng = (
            self.readers[mail.member_id],
            self.state[mail.member_id],
            self.rng[mail.member_id],
        )
        mine = [i for i, t in enumerate(mail.topics) if t in reader.topics]
        if not mine:
            self.outcome.off_topic += 1
        seen, fresh = _seen(mail.sent_at, reader, rng)
        self.outcome.fresh += fresh
        week_ago = mail.sent_at - timedelta(days=7)
        state.received = [t for t in state.received if t > week_ago] + [mail.sent_at]
        crowded = len(state.received) > reader.per_week
        table = CLICK if mail.scope == LETTER else OFFER_CLICK
        chance = table[min(len(mine), max(table))] * (1.0 if fresh else STALE)
        chance *= CROWDED if crowded else 1.0
        if rng.random() < chance:
            link = mail.links[mine[0]] if mine else rng.choice(mail.links)
            self.at(seen, partial(self._click, mail, link), web=True)
            state.annoyance = max(0, state.annoyance - 1)
            return
        state.annoyance += (0 if mine else 1) + (1 if crowded else 0)
        if not mine and rng.random() < NOT_FOR_ME:
            self.at(seen, partial(self._not_for_me, mail), web=True)
        if state.annoyance > reader.tolerance:
            state.annoyance = 0
            self.at(seen + timedelta(minutes=2), partial(self._unsubscribe, mail), web=True)

    def _click(self, mail: Mail, link: str) -> None:
        response = self._client(mail.member_id, signed_in=False).get(BASE_URL + link)
        assert response.status_code == 302, response.status_code
        self.outcome.clicks += 1
        target = response.headers["Location"]
        if "/posts/" in target:
            slug = target.rstrip("/").rsplit("/", 1)[-1]
            if slug not in self.state[mail.member_id].read:
                with self.app.app_context():
                    self._read_article(mail.member_id, slug)

    def _not_for_me(self, mail: Mail) -> None:
        client = self._client(mail.member_id, signed_in=True)
        page = client.get(f"{BASE_URL}/inbox/{mail.delivery_id}")
        assert page.status_code == 200, page.status_code
        token = CSRF.search(page.get_data(as_text=True))
        assert token is not None
        self.clock.current += timedelta(minutes=1)
        done = client.post(
            f"{BASE_URL}/inbox/{mail.delivery_id}/not-for-me",
            data={"csrf_token": token.group(1)},
            headers={"Referer": f"{BASE_URL}/inbox/{mail.delivery_id}"},
        )
        assert done.status_code == 302, done.status_code
        self.outcome.not_for_me += 1

    def _unsubscribe(self, mail: Mail) -> None:
        state = self.state[mail.member_id]
        if mail.scope in state.stopped:
            return
        # What a mail program's one-click button sends (RFC 8058), to the mail's own link.
        done = self._client(mail.member_id, signed_in=False).post(BASE_URL + mail.unsubscribe)
        assert done.status_code == 200, done.status_code
        state.stopped.add(mail.scope)
        self.outcome.unsubscribes += 1

    def _client(self, member: int, *, signed_in: bool) -> FlaskClient:
        """The reader's browser; signed in (a sign-in of its own, as the sign-in page makes
        one) the first time it needs to be."""
        client = self.clients.get(member)
        if client is None:
            client = self.clients[member] = self.app.test_client()
        if signed_in and not getattr(client, "signed_in", False):
            with self.app.app_context():
                row = db.session.get_one(Member, member)
                key = sessions.start_sign_in(row, "bench", self.clock.current)
                db.session.commit()
            with client.session_transaction(base_url=BASE_URL) as session:
                session["_user_id"] = f"{member}.{key}"
                session["_fresh"] = True
            cast(Any, client).signed_in = True
        return client


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _local_time(day: datetime, reader: Reader, minutes: int) -> datetime:
    """The reader's mail time on the local date of ``day``, plus ``minutes``."""
    zone = ZoneInfo(reader.time_zone)
    local = day.astimezone(zone).replace(
        hour=reader.active_start, minute=0, second=0, microsecond=0
    )
    return (local + timedelta(minutes=minutes)).astimezone(day.tzinfo)


def _seen(sent_at: datetime, reader: Reader, rng: random.Random) -> tuple[datetime, bool]:
    """When the reader sees a message sent at ``sent_at``, and whether it was still fresh: a
    message that arrives in the hour before or during their two-hour mail time is seen at
    once; any other waits for the next mail time, under newer mail."""
    zone = ZoneInfo(reader.time_zone)
    local = sent_at.astimezone(zone)
    hour = local.hour + local.minute / 60
    if reader.active_start - 1 <= hour < reader.active_start + 2:
        return sent_at + timedelta(minutes=rng.randint(1, 50)), True
    moment = _local_time(sent_at, reader, rng.randrange(90))
    if moment <= sent_at:
        moment = _local_time(sent_at + timedelta(days=1), reader, rng.randrange(90))
    return moment, False
