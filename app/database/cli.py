"""``flask db …``: migrations."""

from __future__ import annotations

import click
from alembic import command
from alembic.util.exc import CommandError
from flask.cli import AppGroup

from app.database import migrate
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
    command.revision(config, message=message, autogenerate=autogenerate,
                     rev_id=migrate.next_revision_id())
