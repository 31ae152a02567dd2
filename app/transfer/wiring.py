"""Binds the importer and the export to an app."""

from __future__ import annotations

from flask import Flask

from app.transfer import export_wiring, import_wiring
from app.transfer.cli import members_cli


def init_app(app: Flask) -> None:
    import_wiring.init_app(app)
    export_wiring.init_app(app)
    app.cli.add_command(members_cli)
