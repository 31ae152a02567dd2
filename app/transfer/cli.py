"""``flask members …``: bring members in from another tool, and take them out."""

from __future__ import annotations

import click
from flask.cli import AppGroup

members_cli = AppGroup("members", help="Import members from a CSV file, or export them.")


def echo_error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
