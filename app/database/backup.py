"""Backups of a site, and restoring one: the database and the instance folder's own files.

A backup is a folder (mode 0700: it holds the site's secrets)::

    manifest.json        each file with its size, mode and SHA-256; the database kind, its
                         alembic revision, the time; what the backup could not hold
    database.sqlite3     SQLite, copied with the online backup API while the site runs
    database.pgdump      or PostgreSQL, in pg_dump's custom format
    instance/…           every file of the instance folder (secret_key, config.py, signing
                         keys, …) except the database and what is rebuilt from elsewhere
                         (:data:`DERIVED`)

The secret key matters as much as the database: in-store codes are stored as keyed hashes, so a
database restored without its key knows none of the codes already printed.

A backup is written under ``<folder>.partial`` and renamed when complete. A restore checks
every file against the manifest before it touches anything, refuses a database that holds data
unless forced, replaces the database in one transaction, then each instance file by rename.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine, inspect, select, table

from app.config import ENV_PREFIX
from app.database import migrate, snapshots
from app.database.errors import BackupDamaged, BackupError, TargetNotEmpty

MANIFEST = "manifest.json"
FORMAT = "pullfirst-backup/1"
INSTANCE = "instance"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Folders of the instance that are rebuilt from the repository, or belong to no restore.
DERIVED = {
    "mail": "mail written to files in development",
    "site": "the render cache",
    "search": "the search index",
    "stickers": "built sticker packs",
    "og": "social preview images",
    "metrics": "request counts of running processes",
    "backups": "backups",
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupFile:
    path: str  # relative, with "/" separators
    size: int
    sha256: str
    mode: int


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    files: tuple[BackupFile, ...]
    not_included: tuple[str, ...] = ()

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.database]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "database": self.database,
            "alembic_revision": self.revision,
            "files": [{**asdict(f), "mode": f"{f.mode:04o}"} for f in self.files],
            "not_included": list(self.not_included),
        }


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    instance_files: tuple[str, ...]


# --- writing ------------------------------------------------------------------------------------


def _copy(source: Path, target: Path, mode: int) -> BackupFile:
    """Copy ``source`` to the new file ``target`` with ``mode``, hashing on the way."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fchmod(writer.fileno(), mode)
        os.fsync(writer.fileno())
    return BackupFile("", size, digest.hexdigest(), mode)


def _checksum(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def instance_files(instance: Path, database: Path | None, backup: Path | None = None) -> list[Path]:
    """The instance folder's own files: not the database, nothing :data:`DERIVED`, no links,
    nothing of the ``backup`` being written (when it is written inside the folder)."""
    writing = backup.resolve() if backup is not None else None
    skipped = set()
    if database is not None:
        skipped = {
            database.with_name(database.name + suffix)
            for suffix in ("", "-wal", "-shm", "-journal")
        }
    found: list[Path] = []
    for folder, subfolders, names in os.walk(instance):
        here = Path(folder)
        if here == instance:
            subfolders[:] = [d for d in subfolders if d not in DERIVED]
        subfolders[:] = [d for d in subfolders if (here / d).resolve() != writing]
        for name in sorted(names):
            path = here / name
            if path.is_symlink() or not path.is_file() or path.resolve() in skipped:
                continue
            found.append(path)
    return sorted(found)


def secrets_elsewhere(
    config: Mapping[str, Any], environ: Mapping[str, str], instance: Path
) -> list[str]:
    """Secrets the site uses that live outside the instance folder, so no backup holds them."""
    notes = [
        f"{name} comes from the environment ({ENV_PREFIX}{name}): keep it with the backup"
        for name in ("SECRET_KEY", "CODE_HASH_KEY")
        if ENV_PREFIX + name in environ
    ]
    for name, value in sorted(config.items()):
        if (
            name.endswith("_FILE")
            and isinstance(value, str)
            and value
            and not Path(value).resolve().is_relative_to(instance.resolve())
        ):
            notes.append(
                f"{name} names {value}, outside the instance folder: keep it with the backup"
            )
    return notes


def create_backup(
    engine: Engine, instance: Path, target: Path, now: datetime, not_included: Sequence[str] = ()
) -> Manifest:
    """Write a backup of the database behind ``engine`` and of ``instance`` into the new
    folder ``target``. Raises :class:`BackupError` (and leaves nothing behind) when it
    cannot."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty folder")
    kind = engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"cannot back up a {kind} database")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700, parents=True)
    try:
        manifest = _write(engine, instance, partial, now, tuple(not_included))
        (partial / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=2) + "\n")
        (partial / MANIFEST).chmod(0o600)
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _write(
    engine: Engine, instance: Path, folder: Path, now: datetime, not_included: tuple[str, ...]
) -> Manifest:
    kind = engine.dialect.name
    dump = folder / DATABASE_FILES[kind]
    database: Path | None = None
    if kind == "sqlite":
        database = snapshots.sqlite_path(engine.url)
        snapshots.copy_sqlite_out(database, dump)
        revision = snapshots.sqlite_revision(dump)
    else:
        revision = migrate.current_revision(engine)
        snapshots.dump_postgres(engine.url, dump)
    dump.chmod(0o600)
    size, sha = _checksum(dump)
    files = [BackupFile(dump.name, size, sha, 0o600)]
    for source in instance_files(instance, database, folder):
        relative = source.relative_to(instance)
        target = folder / INSTANCE / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        copied = _copy(source, target, source.stat().st_mode & 0o777)
        files.append(
            BackupFile(f"{INSTANCE}/{relative.as_posix()}", copied.size, copied.sha256, copied.mode)
        )
    return Manifest(now.isoformat(), kind, revision, tuple(files), not_included)


# --- reading and checking -----------------------------------------------------------------------


def _safe_path(text: Any) -> str:
    if not isinstance(text, str) or not text:
        raise BackupDamaged(f"{MANIFEST} lists a file without a path")
    parts = PurePosixPath(text).parts
    if PurePosixPath(text).is_absolute() or ".." in parts or "\\" in text:
        raise BackupDamaged(f"{MANIFEST} lists a file outside the backup: {text!r}")
    if not (parts[0] == INSTANCE and len(parts) > 1) and text not in DATABASE_FILES.values():
        raise BackupDamaged(f"{MANIFEST} lists an unexpected file: {text!r}")
    return text


def read_manifest(source: Path) -> Manifest:
    """The manifest of the backup in ``source``; raises :class:`BackupDamaged`."""
    try:
        data = json.loads((source / MANIFEST).read_text())
        if data.get("format") != FORMAT:
            raise BackupDamaged(
                f"{source / MANIFEST} is not a manifest this version reads "
                f"(format {data.get('format')!r})"
            )
        files = tuple(
            BackupFile(
                _safe_path(f["path"]), int(f["size"]), str(f["sha256"]), int(f["mode"], 8) & 0o777
            )
            for f in data["files"]
        )
        manifest = Manifest(
            str(data["created_at"]),
            str(data["database"]),
            data.get("alembic_revision"),
            files,
            tuple(data.get("not_included", ())),
        )
    except FileNotFoundError:
        raise BackupDamaged(f"{source} holds no {MANIFEST}: not a backup") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupDamaged(f"{source / MANIFEST} cannot be read: {exc}") from None
    if manifest.database not in DATABASE_FILES:
        raise BackupDamaged(f"{MANIFEST} names an unknown database kind {manifest.database!r}")
    if manifest.database_file not in {f.path for f in files}:
        raise BackupDamaged(f"{MANIFEST} lists no {manifest.database_file}")
    return manifest


def verify_backup(source: Path) -> Manifest:
    """Check every file of the backup against its manifest; raises :class:`BackupDamaged`
    naming the first file that is missing or differs."""
    manifest = read_manifest(source)
    for entry in manifest.files:
        path = source / entry.path
        if not path.is_file():
            raise BackupDamaged(f"{entry.path} is missing from the backup")
        size, sha = _checksum(path)
        if (size, sha) != (entry.size, entry.sha256):
            raise BackupDamaged(
                f"{entry.path} does not match the manifest (size {size}, "
                f"expected {entry.size}; checksum differs: {sha != entry.sha256})"
            )
    return manifest


# --- restoring ----------------------------------------------------------------------------------


def tables_with_rows(engine: Engine) -> list[str]:
    """Tables of the database that hold at least one row (the alembic version aside)."""
    with engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
        return [
            name
            for name in names
            if connection.execute(select(1).select_from(table(name)).limit(1)).first()
        ]


def _put_file(source: Path, target: Path, mode: int) -> None:
    """Write ``target`` from ``source`` by rename, so it is never half-written."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
    try:
        with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            shutil.copyfileobj(reader, writer, _CHUNK)
            writer.flush()
            os.fchmod(writer.fileno(), mode)
            os.fsync(writer.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def restore_backup(
    source: Path, engine: Engine, instance: Path, *, force: bool = False
) -> Restored:
    """Put the backup in ``source`` back: the database behind ``engine``, then the files of
    ``instance``. Nothing is changed when it raises :class:`BackupDamaged`,
    :class:`TargetNotEmpty` or :class:`BackupError` before the database step; the database
    step itself is all or nothing."""
    manifest = verify_backup(source)
    kind = engine.dialect.name
    if kind != manifest.database:
        raise BackupError(
            f"the backup holds a {manifest.database} database, and DATABASE_URL names a {kind} one"
        )
    if not force:
        filled = tables_with_rows(engine)
        if filled:
            raise TargetNotEmpty(
                f"the database already holds data ({len(filled)} tables with "
                f"rows, such as {', '.join(filled[:3])}): restore into an empty "
                "database, or add --force to replace it"
            )
    dump = source / manifest.database_file
    engine.dispose()
    if kind == "sqlite":
        snapshots.copy_sqlite_in(dump, snapshots.sqlite_path(engine.url))
    else:
        snapshots.restore_postgres(dump, engine)
    restored = []
    for entry in manifest.files:
        if entry.path.startswith(INSTANCE + "/"):
            relative = entry.path.removeprefix(INSTANCE + "/")
            _put_file(source / entry.path, instance.joinpath(*relative.split("/")), entry.mode)
            restored.append(relative)
    return Restored(manifest, tuple(restored))
