"""``flask backup create`` and ``flask backup restore``: the restore drill (members, the consent
ledger and printed codes survive the loss of the whole instance), checksums checked before
anything is touched, no silent overwrite, and what a backup holds and leaves out.

Each test runs on a site of its own: a SQLite file in the test's instance folder, or, when the
suite runs on PostgreSQL, a scratch database named after the test database (``<name>_backup``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.accounts import members
from app.accounts.models import Member
from app.clock import set_clock
from app.consent.ledger import consents
from app.consent.ledger.consents import Client, Origin
from app.consent.scopes import get_scope
from app.database import backup, migrate, snapshots
from app.database.core import make_engine
from app.database.errors import BackupDamaged, BackupError, ToolMissing
from app.engage.errors import CodeUnknown
from app.engage.redemption import issue_codes, redeem
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL, Clock, is_postgres

ORIGIN = Origin("preferences", "/me/permissions", Client("203.0.113.7", "Firefox"))


@dataclass
class Site:
    """A site on disk: its instance folder and database; ``make()`` builds its app the way
    ``flask`` does, with the secret key read from (or generated into) the instance folder."""

    instance: Path
    database_url: str
    config: dict[str, Any]
    clock: Clock

    def make(self, **extra: Any) -> Flask:
        application = create_app({**self.config, **extra})
        set_clock(application, self.clock)
        return application

    def runner(self, **extra: Any) -> tuple[Flask, FlaskCliRunner]:
        application = self.make(**extra)
        return application, application.test_cli_runner()


def _server_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _recreate_postgres(url: str) -> None:
    """Drop and create the database of ``url`` (empty: no tables at all)."""
    name = make_url(url).database
    admin = make_engine(_server_url(url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture
def wipe_database() -> Callable[[Site], None]:
    def wipe(site: Site) -> None:
        if is_postgres():
            _recreate_postgres(site.database_url)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(make_url(site.database_url).database + suffix).unlink(missing_ok=True)

    return wipe


@pytest.fixture
def site(
    tmp_path: Path,
    app_config: dict[str, Any],
    database_template: str,
    clock: Clock,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Site]:
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(instance))
    if is_postgres():
        url = _server_url(TEST_DATABASE_URL, f"{make_url(TEST_DATABASE_URL).database}_backup")
        _recreate_postgres(url)
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
    else:
        shutil.copyfile(database_template, instance / "pullfirst.db")
        url = f"sqlite:///{instance / 'pullfirst.db'}"
    config = {k: v for k, v in app_config.items() if k != "SECRET_KEY"}
    config["DATABASE_URL"] = url
    yield Site(instance, url, config, clock)
    if is_postgres():
        admin = make_engine(_server_url(url, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            )
        admin.dispose()


def _close(application: Flask) -> None:
    """Close the app's connections (a dropped database must leave none behind)."""
    with application.app_context():
        db.session.close()
        db.engine.dispose()


def _ledger_rows() -> list[tuple[Any, ...]]:
    """Every row of the consent ledger, every column, as the driver returns them."""
    rows = db.session.execute(text("SELECT * FROM consent_events ORDER BY id")).all()
    return [tuple(row) for row in rows]


def _fill(application: Flask, clock: Clock) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Members, a consent history with grants and revokes, an issued code batch."""
    with application.app_context():
        scope = get_scope("newsletter")
        people = [
            members.create_member(f"reader{n}@example.com", None, now=clock(), verified=True)
            for n in range(3)
        ]
        db.session.flush()
        for person in people:
            consents.grant_consent(person.id, scope, "email", scope.wording, ORIGIN, clock())
        clock.advance(hours=1)
        consents.revoke_consent(
            people[1].id,
            "newsletter",
            "email",
            ORIGIN,
            clock(),
            wording="Stop the weekly letter by email.",
        )
        clock.advance(hours=1)
        consents.grant_consent(people[1].id, scope, "email", scope.wording, ORIGIN, clock())
        printed = issue_codes("spring-store", 3, now=clock(), uses=1).codes
        db.session.commit()
        rows = _ledger_rows()
        db.session.rollback()
    assert len(rows) == 5
    return printed, rows


def test_restore_drill_codes_still_redeem_and_the_ledger_is_identical(
    site: Site, wipe_database: Callable[[Site], None], tmp_path: Path
) -> None:
    application, runner = site.runner()
    printed, ledger_before = _fill(application, site.clock)
    secret = (site.instance / "secret_key").read_text()
    (site.instance / "receipt-signing-key.pem").write_text("a key file\n")
    (site.instance / "receipt-signing-key.pem").chmod(0o600)
    with application.app_context():
        members_before = db.session.scalar(select(func.count()).select_from(Member))

    made = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "backup")])
    assert made.exit_code == 0, made.output
    assert f"backup written to {tmp_path / 'backup'}" in made.output
    _close(application)

    # The machine is lost: the database and every file of the instance folder.
    wipe_database(site)
    shutil.rmtree(site.instance)
    application, runner = site.runner()  # a new instance: a new secret key is generated
    assert (site.instance / "secret_key").read_text() != secret
    restored = runner.invoke(args=["backup", "restore", str(tmp_path / "backup")])
    assert restored.exit_code == 0, restored.output
    assert "restored the" in restored.output and "secret_key" in restored.output
    _close(application)

    assert (site.instance / "secret_key").read_text() == secret
    assert (site.instance / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (site.instance / "receipt-signing-key.pem").read_text() == "a key file\n"
    application = site.make()  # what the restarted site reads
    with application.app_context():
        assert migrate.current_revision(db.engine) == migrate.head_revision()
        assert db.session.scalar(select(func.count()).select_from(Member)) == members_before
        assert _ledger_rows() == ledger_before
        shopper = members.create_member(
            "shopper@example.com", None, now=site.clock(), verified=True
        )
        db.session.flush()
        assert redeem(shopper.id, printed[0], site.clock()).batch == "spring-store"
        db.session.commit()
    _close(application)

    # Without the restored key the same printed code would be unknown: the drill can fail.
    other = site.make(SECRET_KEY="another-secret-key-0123456789abcdef0123456789")
    with other.app_context():
        shopper2 = members.create_member("late@example.com", None, now=site.clock(), verified=True)
        db.session.flush()
        with pytest.raises(CodeUnknown):
            redeem(shopper2.id, printed[1], site.clock())
    _close(other)


def test_a_backup_holds_the_instance_files_but_nothing_derived(site: Site, tmp_path: Path) -> None:
    (site.instance / "config.py").write_text('BASE_URL = "https://journal.example"\n')
    (site.instance / "keys").mkdir()
    (site.instance / "keys" / "vapid.pem").write_text("vapid\n")
    for derived in ("mail", "search", "stickers", "site", "og"):
        (site.instance / derived).mkdir(exist_ok=True)
        (site.instance / derived / "file").write_text("rebuilt from elsewhere\n")
    application, runner = site.runner()
    assert runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")]).exit_code == 0
    _close(application)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    kind = "postgresql" if is_postgres() else "sqlite"
    dump = "database.pgdump" if is_postgres() else "database.sqlite3"
    assert manifest["format"] == "pullfirst-backup/1" and manifest["database"] == kind
    assert manifest["alembic_revision"] == migrate.head_revision()
    assert manifest["created_at"] == site.clock().isoformat()
    assert [f["path"] for f in manifest["files"]] == [
        dump,
        "instance/config.py",
        "instance/keys/vapid.pem",
        "instance/secret_key",
    ]
    secret = next(f for f in manifest["files"] if f["path"] == "instance/secret_key")
    assert secret["mode"] == "0600" and secret["size"] == 65
    for entry in manifest["files"]:
        assert backup._checksum(tmp_path / "b" / entry["path"]) == (entry["size"], entry["sha256"])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [dump, "instance", "manifest.json"]
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o700


def test_restore_checks_every_checksum_before_it_touches_anything(
    site: Site, tmp_path: Path
) -> None:
    application, runner = site.runner()
    assert runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")]).exit_code == 0
    key = tmp_path / "b" / "instance" / "secret_key"
    key.write_text(key.read_text().replace(key.read_text()[0], "Z", 1))
    before = (site.instance / "secret_key").read_text()
    result = runner.invoke(args=["backup", "restore", "--force", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "instance/secret_key does not match the manifest" in result.output
    assert (site.instance / "secret_key").read_text() == before
    verified = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert verified.exit_code == 1 and "instance/secret_key" in verified.output
    _close(application)


def test_restore_refuses_a_database_that_holds_data_unless_forced(
    site: Site, tmp_path: Path
) -> None:
    application, runner = site.runner()
    _fill(application, site.clock)
    assert runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")]).exit_code == 0
    with application.app_context():
        members.create_member("after@example.com", None, now=site.clock(), verified=True)
        db.session.commit()
    refused = runner.invoke(args=["backup", "restore", str(tmp_path / "b")])
    assert refused.exit_code == 1
    assert "the database already holds data" in refused.output and "--force" in refused.output
    forced = runner.invoke(args=["backup", "restore", "--force", str(tmp_path / "b")])
    assert forced.exit_code == 0, forced.output
    with application.app_context():
        emails = set(db.session.scalars(select(Member.email)))
    _close(application)
    assert "after@example.com" not in emails and "reader0@example.com" in emails


@pytest.mark.skipif(is_postgres(), reason="SQLite's online backup")
def test_a_sqlite_backup_runs_while_another_connection_writes(site: Site, tmp_path: Path) -> None:
    writer = sqlite3.connect(site.instance / "pullfirst.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO worker_beats VALUES ('busy', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    try:
        application, runner = site.runner()
        result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")])
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("COMMIT")
        writer.close()
    copy = sqlite3.connect(tmp_path / "b" / "database.sqlite3")
    assert copy.execute("SELECT count(*) FROM worker_beats").fetchone() == (0,)  # not committed
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    copy.close()
    _close(application)


def test_postgres_backups_name_the_package_when_the_client_tools_are_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(snapshots.shutil, "which", lambda name: None)
    with pytest.raises(
        ToolMissing,
        match=r"pg_dump is not installed.*apt-get install "
        r"postgresql-client",
    ):
        snapshots.dump_postgres(make_url("postgresql+psycopg://u@127.0.0.1/x"), tmp_path / "d")


def test_a_backup_is_never_written_over_an_existing_one(site: Site, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text("{}")
    application, runner = site.runner()
    result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")])
    assert result.exit_code == 1 and "already exists" in result.output
    assert not (tmp_path / "b.partial").exists()
    _close(application)


@pytest.mark.parametrize(
    "path", ["../secret_key", "/etc/passwd", "instance/../../x", "elsewhere/file"]
)
def test_a_manifest_cannot_name_files_outside_the_backup(tmp_path: Path, path: str) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "format": "pullfirst-backup/1",
                "created_at": "x",
                "database": "sqlite",
                "alembic_revision": None,
                "files": [
                    {"path": "database.sqlite3", "size": 0, "sha256": "", "mode": "0600"},
                    {"path": path, "size": 0, "sha256": "", "mode": "0600"},
                ],
            }
        )
    )
    with pytest.raises(BackupDamaged):
        backup.read_manifest(tmp_path)


def test_restore_refuses_a_backup_of_another_kind_of_database(site: Site, tmp_path: Path) -> None:
    application, runner = site.runner()
    assert runner.invoke(args=["backup", "create", "--to", str(tmp_path / "b")]).exit_code == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    other = "sqlite" if is_postgres() else "postgresql"
    dump = manifest["files"][0]
    (tmp_path / "b" / backup.DATABASE_FILES[other]).write_bytes(
        (tmp_path / "b" / dump["path"]).read_bytes()
    )
    manifest["database"] = other
    dump["path"] = backup.DATABASE_FILES[other]
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with application.app_context(), pytest.raises(BackupError, match=f"holds a {other}"):
        backup.restore_backup(tmp_path / "b", db.engine, site.instance)
    _close(application)


def test_a_backup_written_inside_the_instance_folder_does_not_hold_itself(site: Site) -> None:
    application, runner = site.runner()
    target = site.instance / "copies" / "first"
    result = runner.invoke(args=["backup", "create", "--to", str(target)])
    assert result.exit_code == 0, result.output
    _close(application)
    paths = [f["path"] for f in json.loads((target / "manifest.json").read_text())["files"]]
    assert paths[1:] == ["instance/secret_key"]
