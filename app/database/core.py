"""The database: one engine per app, one session per request or CLI command.

SQLite runs with WAL, foreign keys and a busy timeout. Transactions that may write begin with
``BEGIN IMMEDIATE``, so two writers queue on the busy timeout instead of failing when a read lock
would have to be upgraded. A transaction "may write" outside a request (CLI, workers), and inside a
request whose method is not GET, HEAD or OPTIONS; a GET view that writes says so with
:func:`writes`, and a long read behind a POST or a command (an export) with :func:`reads_only`.
PostgreSQL is used whenever the URL says so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import Flask, g, has_app_context, has_request_context, request
from flask.globals import app_ctx
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from app.database.errors import DriverMissing
from app.registry import Slot

SQLITE_BUSY_TIMEOUT_MS = 15_000
POSTGRES_CONNECT_TIMEOUT_S = 10
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names are stable for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass
class _State:
    engine: Engine
    sessions: scoped_session[Session]


STATE = Slot[_State](
    "db",
    "the database engine and the app-context sessions",
    set_by="app.database.core.Database.init_app",
)


def _app_context_id() -> int:
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def may_write() -> bool:
    """Whether the transaction about to begin should take the write lock at once."""
    flag = g.get("pullfirst_writes") if has_app_context() else None
    if flag is not None:
        return bool(flag)
    if not has_request_context():
        return True
    return request.method not in READ_ONLY_METHODS


def _connect_args(url: str) -> dict[str, Any]:
    # libpq waits for an unanswering host as long as TCP does (minutes); a command, a
    # readiness check or a request should hear about it sooner.
    if url.startswith("postgresql") and "connect_timeout" not in url:
        return {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    return {}


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine with the SQLite pragmas and transaction mode described above."""
    if not url.startswith("sqlite"):
        try:
            return create_engine(
                url, pool_pre_ping=True, connect_args=_connect_args(url), **options
            )
        except ImportError as exc:
            raise DriverMissing(
                f"{url.split('://', 1)[0]}:// needs a driver that is not "
                f"installed ({exc}): pip install -e '.[postgres]'"
            ) from None
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver would otherwise issue its own deferred BEGIN; we issue ours below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url and url not in {"sqlite://", "sqlite+pysqlite://"}:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")

    return engine


class Database:
    """Holds the engine and the app-context-scoped session of each app it is bound to."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        STATE.set(app, _State(engine, scoped_session(factory, scopefunc=_app_context_id)))
        app.teardown_appcontext(self._remove_session)

    @staticmethod
    def _state() -> _State:
        return STATE.get()

    @property
    def session(self) -> Session:
        """The session of the current request or CLI command."""
        return self._state().sessions()

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @property
    def dialect(self) -> str:
        return self._state().engine.dialect.name

    def _remove_session(self, _exc: BaseException | None) -> None:
        state = STATE.find()
        if state is not None:
            state.sessions.remove()


P = ParamSpec("P")
R = TypeVar("R")


def writes(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a GET view that writes, so its transaction takes the write lock from the start.

    Any read transaction already open (for example the one that loaded the signed-in member) is
    ended first; it has written nothing.
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from app.extensions import db

        if not g.get("pullfirst_writes"):
            g.pullfirst_writes = True
            if db.session.in_transaction():
                db.session.commit()
        return view(*args, **kwargs)

    return wrapper


def reads_only() -> None:
    """Make the transactions of this request or CLI command begin without the write lock: for a
    long read (an export) that must not hold writers back, even behind a POST or a command.

    A transaction already open is ended first (committed: it has written nothing). On SQLite a
    transaction begun afterwards takes no lock writers wait for and sees the database as it was
    at its first read (WAL). Writing in it is a mistake it does not guard against.
    """
    from app.extensions import db

    g.pullfirst_writes = False
    if db.session.in_transaction():
        db.session.commit()
