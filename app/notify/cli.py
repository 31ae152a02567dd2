"""``flask notify …``: send a campaign, run the worker, take bounces and complaints."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from pathlib import Path
from types import FrameType

import click
from flask.cli import with_appcontext

from app import clock
from app.extensions import db
from app.notify import outbox
from app.notify.campaigns import get_campaign, send_now
from app.notify.errors import CampaignError
from app.notify.states import CampaignState
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
    with click.progressbar(
        length=0, label=f"queueing campaign {campaign_id}", show_pos=True
    ) as bar:

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
    click.echo(
        f"campaign {campaign_id} is sending; run `flask --app app notify worker` "
        "if no worker is running"
    )


class Refused(click.ClickException):
    """A command asked for something that does not exist (exit code 2)."""

    exit_code = 2


@notify_cli.command("digest")
@click.argument("scope")
@with_appcontext
def digest_command(scope: str) -> None:
    """Make the digest of SCOPE now: one campaign, gated as any, in which each member with
    something new gets their own issue of the new articles picked for them; members with
    nothing new get nothing. The worker delivers."""
    from app.notify.campaigns import audience_counts
    from app.notify.digest import build_digest, digest_scope, plan_digest
    from app.notify.errors import DigestError

    now = clock.now()
    try:
        found = digest_scope(scope)
    except DigestError as exc:
        raise Refused(str(exc)) from None
    try:
        plan = plan_digest(found, now)
        campaign = build_digest(found, now, plan=plan)
    except CampaignError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    if campaign is None:
        db.session.rollback()
        if not plan.posts:
            reason = "no article was published since the last letter (or in the last 30 days)"
        elif not plan.reached:
            reason = "the gate lets no member receive it now (`flask consent scopes` says why)"
        else:
            reason = f"none of the {plan.nothing_new} members it reaches has anything new"
        click.echo(f"No digest of {found.title}: {reason}. Nothing was sent.")
        return
    db.session.commit()
    click.echo(
        f"campaign {campaign.id} {campaign.title!r}: {len(plan.picks)} members get an issue, "
        f"{plan.nothing_new} had nothing new"
    )
    for channel, counts in audience_counts(campaign).items():
        click.echo(f"{channel}: {counts['eligible']} deliveries queued")


@notify_cli.command("worker")
@click.option("--once", is_flag=True, help="Stop when nothing is due instead of waiting.")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Deliveries to claim at once (default: NOTIFY_BATCH).",
)
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
        select(Delivery.state, func.count()).group_by(Delivery.state).order_by(Delivery.state)
    ):
        click.echo(f"{state}: {count}")
    for campaign in db.session.scalars(
        select(Campaign).where(Campaign.state == CampaignState.SENDING)
    ):
        click.echo(
            f"campaign {campaign.id} {campaign.title!r}: "
            f"{outbox.waiting_count(campaign.id)} waiting"
        )


@notify_cli.command("bounces")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Listen for returned mail over SMTP on this address (127.0.0.1:2525).",
)
@click.option("--lmtp", is_flag=True, help="With --listen: speak LMTP instead of SMTP.")
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take the returned mail a mail server delivered into this Maildir.",
)
@click.option(
    "--poll",
    type=click.FloatRange(1, 86_400),
    default=None,
    metavar="SECONDS",
    help="With --maildir: look again every SECONDS until stopped.",
)
@with_appcontext
def bounces_command(
    listen: str | None, lmtp: bool, maildir: Path | None, poll: float | None
) -> None:
    """Take bounces and complaints: an SMTP/LMTP listener for bounces+*@NOTIFY_BOUNCE_DOMAIN
    (--listen HOST:PORT [--lmtp]), or a Maildir a mail server delivers them to (--maildir PATH
    [--poll SECONDS]). Hard bounces and complaints suppress the address; soft bounces count.
    SIGTERM or Ctrl+C stops."""
    if (listen is None) == (maildir is None):
        raise click.UsageError("give either --listen HOST:PORT or --maildir PATH")
    if (lmtp and listen is None) or (poll is not None and maildir is None):
        raise click.UsageError("--lmtp goes with --listen, --poll with --maildir")
    address = _host_port(listen) if listen is not None else None
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    try:
        totals = _take_bounces(address, lmtp, maildir, poll, stopping)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    summary = ", ".join(f"{count} {what}" for what, count in sorted(totals.items()))
    click.echo(f"bounces: {summary or 'nothing'}")


def _take_bounces(
    address: tuple[str, int] | None,
    lmtp: bool,
    maildir: Path | None,
    poll: float | None,
    stopping: threading.Event,
) -> Counter[str]:
    from flask import current_app

    from app.notify.bounces.maildir import NotAMaildir, take_maildir

    totals: Counter[str] = Counter()
    if address is not None:
        from app.notify.bounces.listener import BounceListener

        host, port = address
        listener = BounceListener(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            host,
            port,
            lmtp=lmtp,
        )
        try:
            listener.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
        click.echo(
            f"taking bounces for bounces+*@{listener.domain} on {host}:{port} "
            f"({'LMTP' if lmtp else 'SMTP'})"
        )
        while not stopping.wait(1.0):
            pass
        listener.stop()
        totals = listener.totals
    else:
        assert maildir is not None
        while True:
            try:
                totals.update(take_maildir(maildir))
            except NotAMaildir as exc:
                raise click.ClickException(str(exc)) from None
            if poll is None or stopping.wait(poll):
                break
    return totals


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise click.BadParameter(
            f"expected HOST:PORT such as 127.0.0.1:2525, got {text!r}", param_hint="--listen"
        )
    return host, int(port)
