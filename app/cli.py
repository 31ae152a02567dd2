"""``flask serve``: the one command that sets up and runs the site on its defaults."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app.database import migrate
from app.database.cli import db_cli
from app.extensions import db
from app.startup import startup_steps


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Migrate the database, prepare content, packs and demo data, then serve the site and
    run the notifier worker (development server; use gunicorn in production)."""
    logging.basicConfig(level=current_app.config["LOG_LEVEL"],
                        format="%(levelname)s %(name)s: %(message)s")
    migrate.upgrade(db.engine)
    click.echo(f"database: {migrate.current_revision(db.engine)} (head)")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    for name, step in startup_steps(app):
        with app.app_context():
            outcome = step()
        click.echo(f"{name}: {outcome or 'ready'}")
    click.echo(f"serving on http://{host}:{port}/  (Ctrl+C stops)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(serve_command)
