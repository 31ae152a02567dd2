"""Binds the member export (the `flask members export` command and the admin download) to an app."""

from __future__ import annotations

from flask import Flask

from app.transfer import export_screens
from app.transfer.cli import members_cli
from app.transfer.export_cli import export_command


def init_app(app: Flask) -> None:
    members_cli.add_command(export_command)
    export_screens.register(app)
