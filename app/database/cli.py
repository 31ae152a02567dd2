"""``flask db …``: migrations; ``flask backup …``: backups and restores."""

from __future__ import annotations

import os
from pathlib import Path

import click
from alembic import command
from alembic.util.exc import CommandError
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.database import backup, migrate
from app.database.errors import BackupError
from app.extensions import db

db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Bring the database to REVISION (default: the head revision)."""
    migrate.upgrade(db.engine, revision)
    click.echo(f"database at {migrate.current_revision(db.engine)}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Step the database back to REVISION (for example -1 or base)."""
    migrate.downgrade(db.engine, revision)
    click.echo(f"database at {migrate.current_revision(db.engine)}")


@db_cli.command("current")
def current_command() -> None:
    """Print the database's revision and whether it is the head."""
    current = migrate.current_revision(db.engine)
    head = migrate.head_revision()
    click.echo(f"{current or 'empty'} ({'head' if current == head else f'head is {head}'})")


@db_cli.command("check")
def check_command() -> None:
    """Exit non-zero when the models hold changes that no migration describes."""
    try:
        command.check(migrate.alembic_config(db.engine))
    except CommandError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("models and migrations agree")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--autogenerate/--empty", default=True, help="Compare the models with the database.")
def revision_command(message: str, autogenerate: bool) -> None:
    """Write a new migration file (run against a database at the head revision)."""
    config = migrate.alembic_config(db.engine)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    command.revision(
        config, message=message, autogenerate=autogenerate, rev_id=migrate.next_revision_id()
    )


backup_cli = AppGroup("backup", help="Back up the database and the instance folder; restore.")


def _size(number: int) -> str:
    value, unit = float(number), "bytes"
    for larger in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{number:,} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"


@backup_cli.command("create")
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create, outside the instance folder or under "
    "instance/backups (default: instance/backups/<UTC time>).",
)
def backup_create_command(target: Path | None) -> None:
    """Back up the database (SQLite while the site runs, through its online backup API;
    PostgreSQL with pg_dump) and every file of the instance folder that is not rebuilt from
    elsewhere (secret_key, config.py, signing keys), with a manifest of checksums."""
    instance = Path(current_app.instance_path)
    now = clock.now()
    target = target or instance / "backups" / now.strftime("%Y%m%dT%H%M%SZ")
    notes = backup.secrets_elsewhere(current_app.config, os.environ, instance)
    try:
        manifest = backup.create_backup(db.engine, instance, target.resolve(), now, notes)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    database = manifest.files[0]
    click.echo(
        f"backup written to {target}: {manifest.database} database at revision "
        f"{manifest.revision or 'none'} ({_size(database.size)}), "
        f"{len(manifest.files) - 1} instance files"
    )
    for note in manifest.not_included:
        click.echo(f"warning: not in the backup: {note}", err=True)


@backup_cli.command("verify")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_verify_command(source: Path) -> None:
    """Check every file of the backup in SOURCE against its manifest; exits 1 on a mismatch."""
    try:
        manifest = backup.verify_backup(source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{source}: {len(manifest.files)} files match the manifest "
        f"({manifest.database}, revision {manifest.revision or 'none'}, "
        f"made {manifest.created_at})"
    )


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def backup_restore_command(source: Path, force: bool) -> None:
    """Restore the backup in SOURCE: check every checksum first, then replace the database
    (in one transaction) and the instance files. Stop the web processes and the worker
    first. Refuses a database that holds data unless --force."""
    try:
        restored = backup.restore_backup(
            source, db.engine, Path(current_app.instance_path), force=force
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = restored.manifest
    click.echo(
        f"restored the {manifest.database} database at revision "
        f"{manifest.revision or 'none'} and {len(restored.instance_files)} instance "
        f"files ({', '.join(restored.instance_files) or 'none'})"
    )
    if manifest.revision != migrate.head_revision():
        click.echo(f"next: flask --app app db upgrade (this code needs {migrate.head_revision()})")
    click.echo(
        "then: flask --app app stickers build, flask --app app content index, and start "
        "the web processes and the worker"
    )
    for note in manifest.not_included:
        click.echo(f"warning: the backup did not hold: {note}", err=True)
