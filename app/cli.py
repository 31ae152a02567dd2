"""``flask serve``: the one command that sets up and runs the site on its defaults."""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app.database import migrate
from app.database.cli import db_cli
from app.extensions import db
from app.startup import companions, startup_steps


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
    stopping = threading.Event()
    threads = [threading.Thread(target=run, args=(app, stopping), name=name, daemon=True)
               for name, run in companions(app)]
    for thread in threads:
        thread.start()
        click.echo(f"{thread.name}: running")
    click.echo(f"serving on http://{host}:{port}/  (Ctrl+C stops)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stopping.set()
        for thread in threads:
            thread.join(timeout=15)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(serve_command)
