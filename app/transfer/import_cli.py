"""``flask members import FILE``: check a member export and, with ``--apply``, import it."""

from __future__ import annotations

import csv
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext

from app import clock
from app.extensions import db
from app.transfer.checking import Plan, Report, dry_run
from app.transfer.errors import BadRowsFound, TransferError
from app.transfer.formats import Field, FileEvidence, Format, parse_mapping
from app.transfer.importing import apply_import
from app.transfer.rates import parse_rate
from app.transfer.report import report_lines, write_report

DEFAULT_RATE = "100/hour"
DEFAULT_OLD_LIST = "our mailing list"


def _opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def _wording(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read the wording ({exc})") from None


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--scope", required=True, help="The scope the file's evidence of consent is for.")
@click.option("--channel", default="email", show_default=True, help="Its channel.")
@click.option(
    "--format",
    "format_",
    type=click.Choice([f.value for f in Format] + ["auto"]),
    default="auto",
    show_default=True,
    help="The export's format; auto detects Ghost, listmonk and Mailchimp by the header.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from COLUMN (fields: " + ", ".join(f.value for f in Field) + "); repeat.",
)
@click.option(
    "--evidence-wording-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A UTF-8 file holding the exact words the people of the file agreed to.",
)
@click.option("--evidence-where", help="Where they agreed, for exports that hold no place.")
@click.option(
    "--old-list",
    default=DEFAULT_OLD_LIST,
    show_default=True,
    help="The name people knew the old list by, said in their invitation.",
)
@click.option(
    "--rate",
    default=DEFAULT_RATE,
    show_default=True,
    help="How fast the invitations go out: N/minute, N/hour or N/day.",
)
@click.option("--apply", is_flag=True, help="Import (without it: a dry run that writes nothing).")
@click.option("--skip-bad-rows", is_flag=True, help="With --apply: import the rows that are good.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every bad row to this CSV file (line, email, reason).",
)
def import_command(
    file: Path,
    scope: str,
    channel: str,
    format_: str,
    mapping: tuple[str, ...],
    evidence_wording_file: Path | None,
    evidence_where: str | None,
    old_list: str,
    rate: str,
    apply: bool,
    skip_bad_rows: bool,
    report_path: Path | None,
) -> None:
    """Check FILE, a member export (Ghost, listmonk, Mailchimp or a CSV with --map), and with
    --apply import it.

    Without --apply this is a dry run: it prints what an import would do and every bad row as
    FILE:LINE, and writes nothing. Imported people become members who must confirm their
    address; consent is imported only for rows with evidence (wording, when, where), the others
    are invited once, at --rate, to say yes again. With any bad row --apply refuses unless
    --skip-bad-rows; a failed import writes nothing.
    """
    now = clock.now()
    try:
        plan = Plan(
            file_name=file.name,
            scope=scope,
            channel=channel,
            rate=parse_rate(rate),
            old_list=old_list,
            format=None if format_ == "auto" else Format(format_),
            mapping=parse_mapping(list(mapping)),
            evidence=FileEvidence(_wording(evidence_wording_file), evidence_where),
        )
        if apply:
            run, report = apply_import(
                plan,
                _opener(file),
                now,
                by=f"command line ({getpass.getuser()})",
                skip_bad_rows=skip_bad_rows,
            )
        else:
            report = dry_run(plan, _opener(file), now)
    except TransferError as exc:
        db.session.rollback()
        if isinstance(exc, BadRowsFound) and isinstance(exc.report, Report):
            _print(file, exc.report, report_path)
        message = str(exc)
        raise click.ClickException(
            message if message.startswith(file.name) else f"{file}: {message}"
        ) from None
    except BaseException:
        db.session.rollback()
        raise
    if apply:
        db.session.commit()
    _print(file, report, report_path)
    if apply:
        click.echo(
            f"Imported {run.imported:,} members (run {run.id}); skipped {run.existing:,} "
            f"already here. Their invitations go out at {plan.rate} from the worker."
        )
    elif report.bad:
        raise SystemExit(1)
    else:
        click.echo("Dry run: nothing was written. Run again with --apply to import.")


def _print(file: Path, report: Report, report_path: Path | None) -> None:
    for line in report_lines(report, str(file)):
        click.echo(line)
    if report_path is not None:
        with report_path.open("w", newline="", encoding="utf-8") as handle:
            write_report(report, csv.writer(handle))
        click.echo(f"Bad rows written to {report_path}.")
