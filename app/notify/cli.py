"""``flask notify …``: send a campaign and run the worker."""

from __future__ import annotations

import signal
from types import FrameType

import click
from flask.cli import with_appcontext

from app import clock
from app.extensions import db
from app.notify import outbox
from app.notify.campaigns import get_campaign, send_now
from app.notify.errors import CampaignError
from app.notify.worker import Worker


@click.group("notify")
def notify_cli() -> None:
    """Campaigns and the delivery worker."""


@notify_cli.command("send")
@click.argument("campaign_id", type=int)
@with_appcontext
def send_command(campaign_id: int) -> None:
    """Fill the outbox of CAMPAIGN_ID now (the gate decides who gets it); the worker
    delivers."""
    campaign = get_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"there is no campaign {campaign_id}")
    with click.progressbar(length=0, label=f"queueing campaign {campaign_id}",
                           show_pos=True) as bar:
        def advance(count: int) -> None:
            bar.length = (bar.length or 0) + count
            bar.update(count)

        try:
            sizes = send_now(campaign, clock.now(), progress=advance)
        except CampaignError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
    for channel, size in sizes.items():
        click.echo(f"{channel}: {size} deliveries queued")
    click.echo(f"campaign {campaign_id} is sending; run `flask --app app notify worker` "
               "if no worker is running")


@notify_cli.command("worker")
@click.option("--once", is_flag=True, help="Stop when nothing is due instead of waiting.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=None,
              help="Deliveries to claim at once (default: NOTIFY_BATCH).")
@with_appcontext
def worker_command(once: bool, batch: int | None) -> None:
    """Deliver due messages: claim a batch with a lease, re-run the gate, send, record.
    SIGTERM or Ctrl+C finishes the current delivery and stops."""
    worker = Worker(batch=batch)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"worker {worker.name} on {db.dialect}, batches of {worker.batch}")
    worker.tick(force=True)
    totals = worker.run(once=once)
    summary = ", ".join(f"{count} {what}" for what, count in sorted(totals.items())) or "nothing"
    click.echo(f"worker {worker.name} stopped: {summary}")


@notify_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Deliveries per state, and the campaigns still sending."""
    from sqlalchemy import func, select

    from app.notify.models import Campaign, Delivery

    for state, count in db.session.execute(
            select(Delivery.state, func.count()).group_by(Delivery.state).order_by(Delivery.state)):
        click.echo(f"{state}: {count}")
    for campaign in db.session.scalars(select(Campaign).where(Campaign.state == "sending")):
        click.echo(f"campaign {campaign.id} {campaign.title!r}: "
                   f"{outbox.waiting_count(campaign.id)} waiting")
