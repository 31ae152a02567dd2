"""The database layer: SQLite pragmas and write locks, migrations, one session per context."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from app.accounts import members
from app.accounts.models import Member
from app.database import migrate
from app.database.core import make_engine
from app.extensions import db
from tests.conftest import Clock, is_postgres

sqlite_only = pytest.mark.skipif(is_postgres(), reason="SQLite-specific behaviour")


@sqlite_only
def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app: Flask) -> None:
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@sqlite_only
def test_write_transactions_begin_immediate(tmp_path: Path) -> None:
    """Two connections that read, then write: with deferred transactions the second writer
    fails at once with "database is locked"; with BEGIN IMMEDIATE it waits its turn."""
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def bump() -> None:
        try:
            barrier.wait()
            for _ in range(25):
                with engine.begin() as connection:
                    n = connection.exec_driver_sql("SELECT n FROM counter").scalar()
                    connection.exec_driver_sql("UPDATE counter SET n = ?", (n + 1,))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 200  # no lost update
    engine.dispose()


def test_only_transactions_that_may_write_take_the_write_lock(app: Flask) -> None:
    from app.database.core import may_write, writes

    with app.test_request_context("/x", method="GET"):
        assert may_write() is False
    with app.test_request_context("/x", method="POST"):
        assert may_write() is True
    with app.app_context():
        assert may_write() is True  # CLI commands and workers

    @writes
    def view_that_writes() -> bool:
        return may_write()

    with app.test_request_context("/x", method="GET"):
        db.session.execute(select(Member)).all()  # a read transaction is open
        assert view_that_writes() is True
        assert not db.session.in_transaction()  # it was ended before the write began


def test_database_is_at_the_head_revision_and_models_match_migrations(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        assert migrate.is_current(db.engine)
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "models and migrations agree" in result.output
    current = runner.invoke(args=["db", "current"])
    assert "(head)" in current.output


@sqlite_only
def test_db_upgrade_builds_an_empty_database_and_downgrade_removes_it(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app.config["DATABASE_URL"] = url
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        tables = {
            r[0]
            for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        }
    assert {"members", "sign_ins", "token_uses", "alembic_version"} <= tables
    migrate.downgrade(engine, "base")
    with engine.connect() as connection:
        tables = {
            r[0]
            for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        }
    assert tables == {"alembic_version"}
    engine.dispose()


def test_each_app_context_has_its_own_session(app: Flask, clock: Clock) -> None:
    with app.app_context():
        first = db.session
        members.create_member("a@example.com", "long enough password", now=clock())
        with app.app_context(), app.test_request_context("/", method="GET"):  # a reader
            assert db.session is not first
            assert members.find_by_email("a@example.com") is None  # not committed yet
        db.session.commit()
    with app.app_context():
        assert members.find_by_email("A@example.com") is not None


def test_concurrent_sign_ups_with_one_address_make_one_member(app: Flask, clock: Clock) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        with app.app_context():
            barrier.wait()
            try:
                members.create_member("same@example.com", "long enough password", now=clock())
                db.session.commit()
                outcomes.append("created")
            except members.EmailTaken:
                db.session.rollback()
                outcomes.append("taken")

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["taken"] * 5
