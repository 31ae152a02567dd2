"""``flask rewards …``: back-fill entitlements after a rule change, and check the rules."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import clock
from app.engage.redemption import batch_names
from app.engage.responses import shelf
from app.extensions import db
from app.rewards.audit import audit_rules
from app.rewards.entitlements import rule_book, sync

rewards_cli = AppGroup("rewards", help="Reward rules and entitlements.")


@rewards_cli.command("sync")
def sync_command() -> None:
    """Grant every reward whose rule matches actions members already took (after a new pack or
    a changed rule). Safe to run at any time: nothing is granted twice."""
    added = sync(clock.now())
    db.session.commit()
    click.echo(f"{added} entitlement{'s' if added != 1 else ''} added")


@rewards_cli.command("check")
def check_command() -> None:
    """Report rules that name unknown surveys, code batches or scopes, and rule files that
    cannot be read. Exits with status 1 when there is any problem."""
    book = rule_book()
    problems = audit_rules(book, set(shelf().surveys), set(batch_names()))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(book.rules)} reward rules, all pointing at something real")
