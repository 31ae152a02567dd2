"""What an operator reads when the database cannot serve a ``flask`` command.

An unreachable server, a wrong password, a SQLite file that cannot be opened, or tables that
are not there yet (``flask db upgrade`` has not run) end a command with one line that names the
setting or the command to run, instead of a page of traceback. :func:`guard_commands` wraps
every command of the app once; any other error still shows its traceback, since that one is a
bug to report.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import has_app_context
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from app.database import migrate
from app.database.errors import DatabaseUnreachable, SchemaNotReady

_GUARDED = "__pullfirst_guarded__"
# SQLite says so in words; PostgreSQL by SQLSTATE (undefined_table, undefined_column).
_SQLITE_MISSING = ("no such table", "no such column")
_POSTGRES_MISSING = {"42P01", "42703"}
_SQLITE_CANNOT_OPEN = (
    "unable to open database file",
    "readonly database",
    "attempt to write a readonly database",
)


def safe_url(url: URL) -> str:
    """The URL with its password masked, fit to print."""
    return url.render_as_string(hide_password=True)


def one_line(error: BaseException | None) -> str:
    """The driver's message on a single line (drivers add hints on lines of their own)."""
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _cannot_open_sqlite(exc: DBAPIError) -> bool:
    return any(phrase in str(exc.orig) for phrase in _SQLITE_CANNOT_OPEN)


def _missing_table(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _POSTGRES_MISSING:
        return True
    return str(exc.orig).startswith(_SQLITE_MISSING)


def unreachable(exc: DBAPIError, url: URL) -> DatabaseUnreachable:
    """The one-line error for a database that cannot be reached or opened."""
    reason = one_line(exc.orig)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or ".").resolve().parent
        return DatabaseUnreachable(
            f"cannot open the SQLite file {url.database}: {reason} "
            f"(the folder {folder} must exist and be writable)"
        )
    return DatabaseUnreachable(f"cannot connect to {safe_url(url)}: {reason}")


def schema_problem(engine: Engine) -> SchemaNotReady | None:
    """Why the database's schema cannot serve this code, or None when it is at the head."""
    try:
        current = migrate.current_revision(engine)
    except DBAPIError:
        return None
    head = migrate.head_revision()
    if current is None:
        return SchemaNotReady("the database has no schema yet")
    if current != head:
        return SchemaNotReady(
            f"the database schema is at revision {current}, this code needs {head}"
        )
    return None


def operator_error(exc: DBAPIError, engine: Engine) -> SystemExit | None:
    """The one-line error for ``exc`` when an operator can fix it, or None for a bug."""
    if exc.statement is None or (engine.dialect.name == "sqlite" and _cannot_open_sqlite(exc)):
        return unreachable(exc, engine.url)  # no statement ran: connecting failed
    if _missing_table(exc):
        return schema_problem(engine)
    return None


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except DBAPIError as exc:
            if not has_app_context():
                raise
            from app.extensions import db

            db.session.close()  # end its transaction: on SQLite it may hold the write lock
            error = operator_error(exc, db.engine)
            if error is None:
                raise
            raise error from None

    setattr(run, _GUARDED, True)
    return run


def guard_commands(group: click.Group) -> None:
    """Wrap every command under ``group`` (once, however many apps are created) so that the
    errors described above end it with one line."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            guard_commands(command)
        elif command.callback is not None and not getattr(command.callback, _GUARDED, False):
            command.callback = _guarded(command.callback)
