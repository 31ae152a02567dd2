"""Copies of the database, in and out, for :mod:`app.database.backup`.

- SQLite: SQLite's online backup API, both ways. Taking a copy holds only a read transaction,
  so the site and the worker go on writing; putting a copy back is one write transaction, so
  the database is either wholly the old one or wholly the copy.
- PostgreSQL: ``pg_dump --format=custom`` out; back in, ``pg_restore`` turns the dump into SQL
  that ``psql --single-transaction`` runs after dropping what the database held, so the restore
  too is all or nothing. These programs come with the PostgreSQL client
  (``apt-get install postgresql-client``), whose major version must be at least the server's.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from app.database.core import SQLITE_BUSY_TIMEOUT_MS
from app.database.errors import BackupError, ToolMissing

CLIENT_PACKAGE = "apt-get install postgresql-client"


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to back up")
    return Path(url.database).resolve()


def _sqlite_copy(
    source: sqlite3.Connection, target: sqlite3.Connection, journal: str | None = None
) -> None:
    try:
        source.backup(target)
        if journal is not None:
            target.execute(f"PRAGMA journal_mode={journal}")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from None
    finally:
        source.close()
        target.close()


def copy_sqlite_out(database: Path, target: Path) -> None:
    """Copy the live database at ``database`` into the new file ``target``."""
    if not database.is_file():
        raise BackupError(f"the database file {database} does not exist: nothing to back up")
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    # The copy is one self-contained file (no -wal or -shm beside it); the site turns WAL on
    # again when it opens a restored copy.
    _sqlite_copy(
        sqlite3.connect(database, timeout=timeout), sqlite3.connect(target), journal="DELETE"
    )


def copy_sqlite_in(copy: Path, database: Path) -> None:
    """Replace the contents of ``database`` (created when missing) with ``copy``, in one
    transaction."""
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    _sqlite_copy(source, sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000))


def sqlite_revision(copy: Path) -> str | None:
    """The alembic revision recorded in the SQLite file ``copy`` (None before any)."""
    connection = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: never migrated
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


# --- PostgreSQL ---------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"{name} is not installed, and PostgreSQL backups need it: {CLIENT_PACKAGE}"
        )
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and the environment that carries the password (never on a
    command line, where other users of the machine could read it)."""
    address = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return address.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {reason}")


def dump_postgres(url: URL, target: Path) -> None:
    """``pg_dump`` the database into ``target`` (custom format)."""
    address, env = _libpq(url)
    _run(
        [_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={address}"],
        env,
        "pg_dump",
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# What the restore drops besides tables, views and sequences; objects that belong to an
# extension are the extension's to drop.
_FUNCTIONS = text(
    "SELECT p.oid::regprocedure::text FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
)
_TYPES = text(
    "SELECT t.typname FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = :schema "
    "AND t.typtype IN ('e', 'd') "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"
)


def _drop_statements(engine: Engine) -> list[str]:
    """SQL that drops every table, view, sequence, function and type of the schema the
    restore will write into (``current_schema()``)."""
    with engine.connect() as connection:
        schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
        functions = connection.execute(_FUNCTIONS, {"schema": schema}).scalars().all()
        types = connection.execute(_TYPES, {"schema": schema}).scalars().all()
        found = inspect(connection)
        s = _ident(schema)
        statements = [
            f"DROP VIEW IF EXISTS {s}.{_ident(v)} CASCADE;" for v in found.get_view_names(schema)
        ]
        statements += [
            f"DROP TABLE IF EXISTS {s}.{_ident(t)} CASCADE;" for t in found.get_table_names(schema)
        ]
        statements += [
            f"DROP SEQUENCE IF EXISTS {s}.{_ident(q)} CASCADE;"
            for q in found.get_sequence_names(schema)
        ]
        statements += [f"DROP FUNCTION IF EXISTS {f} CASCADE;" for f in functions]
        statements += [f"DROP TYPE IF EXISTS {s}.{_ident(t)} CASCADE;" for t in types]
    return statements


def restore_postgres(dump: Path, engine: Engine) -> None:
    """Replace everything in the database with the dump, in one transaction."""
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    address, env = _libpq(engine.url)
    with tempfile.TemporaryDirectory(prefix="pullfirst-restore-") as work:
        script, prologue = Path(work) / "restore.sql", Path(work) / "drop.sql"
        _run(
            [pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
            env,
            "pg_restore",
        )
        prologue.write_text("\n".join(_drop_statements(engine)) + "\n")
        engine.dispose()  # no connection of ours may hold a lock the restore waits for
        _run(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--file={prologue}",
                f"--file={script}",
                f"--dbname={address}",
            ],
            env,
            "psql (restoring the dump)",
        )
