"""``flask codes …``: issue in-store code batches and count what happened to them."""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from app import clock
from app.editorfiles.fields import parse_moment
from app.engage.dates import last_day
from app.engage.errors import BatchError
from app.engage.redemption import IssuedCodes, batch_stats, issue_codes
from app.extensions import db

codes_cli = AppGroup("codes", help="In-store redemption codes.")


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value.strip()) != 10:
            raise ValueError("not a day")
        return parse_moment(value, end_of_day=True)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a day; give the last day the codes work, as YYYY-MM-DD",
            param_hint="--expires",
        ) from None


def _write_csv(out: Path, issued: IssuedCodes) -> None:
    """Write the codes to a new file that only the owner can read."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    valid = (
        (issued.expires_at - timedelta(microseconds=1)).date().isoformat()
        if issued.expires_at
        else ""
    )
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "batch", "uses", "valid_until"])
        writer.writerows([code, issued.batch, issued.uses, valid] for code in issued.codes)


@codes_cli.command("issue")
@click.option("--batch", required=True, help="Batch name, such as spring-store.")
@click.option("--count", required=True, type=int, help="How many codes to add (1 to 100,000).")
@click.option(
    "--uses",
    type=int,
    default=None,
    help="Redemptions each code allows (new batches: 1 unless given).",
)
@click.option("--expires", default=None, help="Last day the codes work, YYYY-MM-DD (UTC).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New CSV file to write the codes to (mode 0600).",
)
def issue_command(batch: str, count: int, uses: int | None, expires: str | None, out: Path) -> None:
    """Issue COUNT new codes in BATCH and write them to the CSV file OUT.

    The codes are printed only there: the database keeps a keyed hash of each.
    """
    if out.exists():
        raise click.ClickException(
            f"{out} exists; name a new file, so no printed codes are overwritten"
        )
    try:
        issued = issue_codes(batch, count, now=clock.now(), uses=uses, expires_at=_expiry(expires))
        _write_csv(out, issued)
    except BatchError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        db.session.rollback()
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    try:
        db.session.commit()
    except Exception:
        out.unlink(missing_ok=True)
        raise
    until = f"valid until {last_day(issued.expires_at)}" if issued.expires_at else "no end date"
    click.echo(
        f"issued {len(issued.codes)} codes in batch {issued.batch} "
        f"({issued.uses} use{'s' if issued.uses != 1 else ''} each, {until}) into {out}"
    )


@codes_cli.command("stats")
def stats_command() -> None:
    """Print every batch with its issued, redeemed, used-up, expired and open counts."""
    stats = batch_stats(clock.now())
    if not stats:
        click.echo("no batches yet: flask --app app codes issue --batch NAME --count N --out FILE")
        return
    header = ("batch", "issued", "redeemed", "used up", "expired", "uses left", "valid until")
    rows = [
        (
            s.name,
            str(s.issued),
            str(s.redeemed),
            str(s.used_up),
            str(s.expired),
            str(s.left),
            last_day(s.expires_at) if s.expires_at else "no end",
        )
        for s in stats
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
