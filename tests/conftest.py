"""Fixtures shared by every area's tests.

- ``app``: a fresh instance folder and database per test. SQLite by default; PostgreSQL when
  ``PULLFIRST_TEST_DATABASE_URL`` is set (the tables are emptied before each test; under
  pytest-xdist each worker uses a database of its own, ``<name>_gw0``…). It serves the small
  content folder ``tests/fixtures/content``; ``demo_content`` switches a test to the demo's.
- ``client``, ``runner``: Flask's test client and CLI runner.
- ``clock``: a clock the test moves by hand.
- ``smtp``: a real aiosmtpd server on a free loopback port; the app sends all mail to it.
- ``member``: a verified member with a known password.

No PostgreSQL connection outlives its test (``connections_closed``, on every test): one that a
test left open (a pool of an app it made and never disposed, a request thread that finished after
the engine was disposed) is closed when the test ends, not by the garbage collector in the middle
of another test, where psycopg's ResourceWarning would fail that one.
"""

from __future__ import annotations

import os
import shutil
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, MetaData, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import close_all_sessions
from sqlalchemy.pool import Pool

from app import create_app
from app.clock import set_clock
from app.database import migrate
from app.database.core import make_engine
from tests.browser import browser  # noqa: F401 - one Chromium for the whole session
from tests.helpers import SMTPSink

#: The xdist worker this process is (``gw0``, ``gw1``…), or "" without ``-n``.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database_url(url: str, worker: str) -> str:
    """The database of one xdist worker: ``<name>_<worker>`` on the same server (``url`` itself
    without xdist, or on SQLite, whose databases are files per test anyway)."""
    if not worker or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


#: The URL PULLFIRST_TEST_DATABASE_URL names; each xdist worker gets a database of its own next
#: to it, and ``TEST_DATABASE_URL`` is the one this process uses.
GIVEN_DATABASE_URL = os.environ.get("PULLFIRST_TEST_DATABASE_URL", "")
TEST_DATABASE_URL = worker_database_url(GIVEN_DATABASE_URL, XDIST_WORKER)
REPO = Path(__file__).resolve().parent.parent
#: The small content folder the ``app`` fixture serves; tests of the demo itself ask for
#: ``demo_content`` (the repository's ``content/``).
CONTENT = REPO / "tests" / "fixtures" / "content"
PASSWORD = "correct horse battery staple"


#: Every PostgreSQL connection a pool opened in this process, until it is garbage-collected.
OPENED: weakref.WeakSet[Any] = weakref.WeakSet()


@event.listens_for(Pool, "connect")
def _opened(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("psycopg"):
        OPENED.add(dbapi_connection)


@pytest.fixture(autouse=True)
def connections_closed() -> Iterator[None]:
    """Close the PostgreSQL connections still open when the test ends (set up first among a
    test's fixtures, so torn down last: after the ``app`` fixture disposed of its engine)."""
    yield
    for connection in list(OPENED):
        if not connection.closed:
            connection.close()
    OPENED.clear()


def is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith("postgresql")


def _recreate_database(url: str, *, create: bool = True) -> None:
    """Drop the PostgreSQL database of ``url`` (and its connections) and, by default, create it
    again empty, through the server's ``postgres`` database."""
    name = make_url(url).database
    admin = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _drop_everything(engine: Engine) -> None:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        metadata.drop_all(connection)


def _empty_tables(engine: Engine) -> None:
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    if names:
        with engine.begin() as connection:
            quoted = ", ".join(f'"{n}"' for n in names)
            connection.execute(text(f"TRUNCATE TABLE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the head revision: a SQLite file to copy, or the PostgreSQL URL. Under
    xdist each worker creates its own PostgreSQL database (``<name>_gw0``…) and drops it at
    the end of the session."""
    if is_postgres():
        if XDIST_WORKER:
            _recreate_database(TEST_DATABASE_URL)
        engine = make_engine(TEST_DATABASE_URL)
        _drop_everything(engine)
        migrate.upgrade(engine)
        engine.dispose()
        yield TEST_DATABASE_URL
        if XDIST_WORKER:
            _recreate_database(TEST_DATABASE_URL, create=False)
        return
    path = tmp_path_factory.mktemp("template") / "pullfirst.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    yield str(path)


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


def last_friday_morning() -> datetime:
    """10:00 UTC on the latest Friday that has begun: inside the demo newsletter's promised
    days and window (Fridays, 08:00-18:00), so tests do not depend on the day they run."""
    now = datetime.now(UTC).replace(microsecond=0)
    moment = (now - timedelta(days=(now.weekday() - 4) % 7)).replace(hour=10, minute=0, second=0)
    return moment if moment <= now else moment - timedelta(days=7)


@pytest.fixture
def clock() -> Clock:
    return Clock(last_friday_morning())


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's PULLFIRST_* variables out of the tests."""
    for name in list(os.environ):
        if (name.startswith("PULLFIRST_") and name != "PULLFIRST_TEST_DATABASE_URL") or (
            name == "DATABASE_URL"
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app_config(tmp_path: Path, database_template: str, smtp: SMTPSink) -> dict[str, Any]:
    """The settings of the ``app`` fixture; a test may change them before it asks for ``app``."""
    if is_postgres():
        url = database_template
    else:
        target = tmp_path / "db" / "pullfirst.db"
        target.parent.mkdir()
        shutil.copyfile(database_template, target)
        url = f"sqlite:///{target}"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789abcdef",
        "DATABASE_URL": url,
        "MAIL_URL": smtp.url,
        "CONTENT_DIR": str(CONTENT),
        "CONTENT_GIT": False,  # on in tests/site/test_contentgit.py and the history tests
        "STICKERS_DIR": str(REPO / "stickers"),
        "BASE_URL": "http://localhost",
    }


@pytest.fixture
def demo_content(app_config: dict[str, Any]) -> Path:
    """For tests of the demo itself: the app serves the repository's ``content/`` (what
    ``flask serve`` shows a newcomer) instead of the small test folder."""
    app_config["CONTENT_DIR"] = str(REPO / "content")
    return REPO / "content"


@pytest.fixture
def app(
    tmp_path: Path,
    app_config: dict[str, Any],
    clock: Clock,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / "instance"))
    if is_postgres():
        engine = make_engine(app_config["DATABASE_URL"])
        _empty_tables(engine)
        engine.dispose()
    application = create_app(app_config)
    set_clock(application, clock)
    yield application
    close_app_database(application)


def close_app_database(application: Flask) -> None:
    """Close every session the test left open (a thread's, a failed request's) and then the
    engine's connections, so that no connection outlives its test and is closed by the garbage
    collector in the middle of another one."""
    close_all_sessions()
    with application.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def member(app: Flask, clock: Clock) -> Any:
    """A verified member, ``reader@example.com`` with the password :data:`PASSWORD`."""
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        created = members.create_member(
            "reader@example.com",
            PASSWORD,
            now=clock(),
            display_name="Robin Reader",
            verified=True,
        )
        db.session.commit()
        db.session.expunge(created)
        return created


@pytest.fixture
def editor(app: Flask, clock: Clock) -> FlaskClient:
    """A client signed in as ``editor@example.com``, a verified member with the editor role."""
    from app.accounts import members
    from app.extensions import db
    from tests.helpers import sign_in

    with app.app_context():
        members.create_member(
            "editor@example.com", PASSWORD, now=clock(), role="editor", verified=True
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "editor@example.com", PASSWORD)
    return client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``browser`` every test that starts Chromium (it asks for the ``browser`` fixture,
    directly or through ``page``), so ``-m "not browser"`` leaves them all out."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
