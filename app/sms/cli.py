"""``flask sms …``: hand Kannel the system texts still waiting, and see the SMS log."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app import clock
from app.consent import texts
from app.consent.models import SmsMessage
from app.extensions import db

sms_cli = AppGroup("sms", help="Text messages through Kannel.")


@sms_cli.command("flush")
def flush_command() -> None:
    """Hand Kannel the system texts that are still queued (the notifier worker does this
    every half minute too)."""
    if not texts.configured():
        raise click.ClickException("SMS is off: set SMS_SENDSMS_URL first.")
    sent = texts.flush(clock.now())
    waiting = db.session.scalar(
        select(func.count()).select_from(SmsMessage).where(SmsMessage.state == texts.QUEUED)
    )
    click.echo(f"{sent} texts handed to Kannel; {waiting} still waiting.")


@sms_cli.command("log")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def log_command(limit: int) -> None:
    """The latest texts in and out: when, which way, number, kind, state and text."""
    rows = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit))
    for row in rows:
        arrow = "<-" if row.direction == "in" else "->"
        text = " ".join(row.text.split())
        click.echo(
            f"{row.at:%Y-%m-%d %H:%M} {arrow} {row.number} {row.kind:<12} {row.state:<9} "
            f"{text[:60]}"
        )
