"""Fixtures of the notifier's tests: an audience laid out in the tables, campaigns, and a
worker run in the test's app context."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.conftest import PASSWORD, Clock
from tests.consent import world


class Audience:
    """Members who earned a scope and said yes to it a week ago, on the given channels."""

    def __init__(self, app: Flask, clock: Clock) -> None:
        self.app, self.clock = app, clock

    def add(
        self,
        count: int,
        scope: str = "newsletter",
        channels: tuple[str, ...] = ("email", "inbox"),
        **member: Any,
    ) -> list[int]:
        from app.extensions import db

        at = self.clock() - timedelta(days=7)
        ids = []
        with self.app.app_context():
            start = 1000 + len(self.all_ids())
            for n in range(count):
                created = world.add_member(start + n, at, **member)
                world.earn(created.id, scope, at)
                for channel in channels:
                    world.consent(created.id, scope, channel, granted=True, version=1, at=at)
                ids.append(created.id)
            db.session.commit()
        return ids

    def all_ids(self) -> list[int]:
        from sqlalchemy import select

        from app.accounts.models import Member
        from app.extensions import db

        return list(db.session.scalars(select(Member.id)))


@pytest.fixture
def audience(app: Flask, clock: Clock) -> Audience:
    return Audience(app, clock)


@pytest.fixture
def campaign(app: Flask, clock: Clock) -> Callable[..., int]:
    """Create a draft and return its id."""

    def make(
        title: str = "Three articles for the weekend",
        scope: str = "newsletter",
        kind: str = "editorial",
        channels: tuple[str, ...] = ("email",),
        body: str = "Hello. Read [the first one](https://example.org/a?x=1&y=2) now.",
        send: bool = True,
    ) -> int:
        from app.extensions import db
        from app.notify.campaigns import Draft, create_campaign, send_now

        with app.app_context():
            created = create_campaign(Draft(title, body, scope, kind, channels), None, clock())
            if send:
                send_now(created, clock())
            db.session.commit()
            return created.id

    return make


@pytest.fixture
def work(app: Flask) -> Callable[..., Counter[str]]:
    """Run the worker until nothing is due; returns what happened."""

    def run(**options: Any) -> Counter[str]:
        from app.notify.worker import Worker

        with app.app_context():
            worker = Worker(name=options.pop("name", "test-worker"), **options)
            return worker.run(once=True)

    return run


@pytest.fixture
def marketer(app: Flask, clock: Clock) -> Iterator[str]:
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), verified=True, role="marketer"
        )
        db.session.commit()
    yield "marketer@example.com"


@pytest.fixture
def plain_cadence(app: Flask) -> None:
    """The gate without learning: for tests of something else that send a member several
    campaigns they never open (learning would rest the member after the first)."""
    app.config["NOTIFY_LEARNING"] = False
