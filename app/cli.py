"""``flask serve``: the one command that sets up and runs the site on its defaults."""

from __future__ import annotations

import logging
import os
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app import config as settings
from app.database import migrate
from app.database.cli import backup_cli, db_cli
from app.database.diagnosis import guard_commands
from app.extensions import db
from app.startup import companions, startup_steps


def base_url_for(app: Flask, host: str, port: int) -> str:
    """The ``BASE_URL`` that ``flask serve --host --port`` runs under: the configured one when
    ``BASE_URL`` is set anywhere (``instance/config.py``, the environment, the app's own
    settings), else the address it serves on, so that links in mail, feeds and the console
    point at the port that answers. A server listening on every interface is named by its
    loopback address."""
    default = settings.SETTINGS_BY_NAME["BASE_URL"].default
    if (
        app.config["BASE_URL"] != default
        or f"{settings.ENV_PREFIX}BASE_URL" in os.environ
        or "BASE_URL" in settings.read_instance_config(app.instance_path)
    ):
        return str(app.config["BASE_URL"])
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Migrate the database, prepare content, packs and demo data, then serve the site and
    run the notifier worker (development server; use gunicorn in production). Without a
    configured BASE_URL, links name the --host and --port it serves on."""
    logging.basicConfig(
        level=current_app.config["LOG_LEVEL"], format="%(levelname)s %(name)s: %(message)s"
    )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    app.config["BASE_URL"] = base_url_for(app, host, port)
    migrate.upgrade(db.engine)
    click.echo(f"database: {migrate.current_revision(db.engine)} (head)")
    for name, step in startup_steps(app):
        with app.app_context():
            outcome = step()
        click.echo(f"{name}: {outcome or 'ready'}")
    stopping = threading.Event()
    threads = [
        threading.Thread(target=run, args=(app, stopping), name=name, daemon=True)
        for name, run in companions(app)
    ]
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
    app.cli.add_command(backup_cli)
    app.cli.add_command(serve_command)
    guard_commands(app.cli)  # last: every area's commands are registered by now
