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
    """Report rules that name unknown surveys or scopes, and rule files that cannot be read
    (exit status 1); a rule naming a code batch not issued yet is a warning (exit status 0)."""
    book = rule_book()
    problems = audit_rules(book, set(shelf().surveys), set(batch_names()))
    for problem in problems:
        click.echo(str(problem), err=True)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise SystemExit(1)
    warnings = len(problems) - len(errors)
    if warnings:
        click.echo(
            f"{len(book.rules)} reward rules, no errors, {warnings} warning"
            f"{'s' if warnings != 1 else ''} (issue a batch with flask --app app codes "
            "issue)"
        )
    else:
        click.echo(f"{len(book.rules)} reward rules, all pointing at something real")
