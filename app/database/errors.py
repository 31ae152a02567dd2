"""What the database layer raises to an operator, and what a backup or a restore refuses.

::

    SystemExit                       ends a command with one line, no traceback
     ├── SettingError                (app.config) a setting is missing or ill-formed
     │    ├── DriverMissing          DATABASE_URL needs a driver that is not installed
     │    └── DatabaseUnreachable    DATABASE_URL cannot be reached or opened
     └── SchemaNotReady              the database has no schema, or an older one

    BackupError                      a backup or a restore cannot go on; nothing was changed
     ├── ToolMissing                 pg_dump, pg_restore or psql is not installed
     ├── BackupDamaged               the manifest or a file's size or checksum is wrong
     └── TargetNotEmpty              the database holds data (restore without --force)
"""

from __future__ import annotations

from app.config import SettingError

UPGRADE_HINT = "run flask --app app db upgrade"


class DriverMissing(SettingError):
    """The URL names a database whose Python driver is not installed."""

    def __init__(self, problem: str) -> None:
        super().__init__("DATABASE_URL", problem)


class DatabaseUnreachable(SettingError):
    """Connecting failed: server down, wrong password, a SQLite file that cannot be opened."""

    def __init__(self, problem: str) -> None:
        super().__init__("DATABASE_URL", problem)


class SchemaNotReady(SystemExit):
    """The tables a command needs are not there yet: the migrations have not run."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"pullfirst: {problem}: {UPGRADE_HINT}")


class BackupError(Exception):
    """A backup or a restore stopped before changing anything; the message says why."""


class ToolMissing(BackupError):
    """A PostgreSQL client program is not installed."""


class BackupDamaged(BackupError):
    """The backup's manifest is missing or ill-formed, or a file does not match it."""


class TargetNotEmpty(BackupError):
    """The database to restore into holds data, and the restore was not forced."""
