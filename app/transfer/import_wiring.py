"""Binds the member importer (the `flask members import` command, the admin screen, the invitation
chore) to an app."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.notify.chores import register_chore
from app.transfer import import_screens
from app.transfer.cli import members_cli
from app.transfer.import_cli import import_command
from app.transfer.invitations import send_due_invitations


def _send_invitations(now: datetime) -> None:
    send_due_invitations(now)


def init_app(app: Flask) -> None:
    members_cli.add_command(import_command)
    import_screens.register(app)
    register_chore(app, "import-invitations", _send_invitations)
