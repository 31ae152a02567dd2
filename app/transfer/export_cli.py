"""``flask members export``: every member, what they earned, their permissions and the whole
consent ledger, to a file (or JSON to standard output)."""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path

import click
from flask.cli import with_appcontext

from app import clock
from app.transfer.export import MemberExport, site_identity
from app.transfer.export_audit import CLI, record_export
from app.transfer.export_formats import ExportFormat, chunks

STDOUT = "-"


def _cannot(path: Path, reason: str) -> click.ClickException:
    return click.ClickException(f"cannot write {path}: {reason}")


def _refuse_folder(target: Path) -> None:
    if target.is_dir():
        raise _cannot(target, "it is a folder; give the name of a file to write")


def write_file(target: Path, data: Iterable[bytes]) -> None:
    """Write ``data`` to ``target``, readable by the owner only, whole or not at all: it goes to
    a hidden file beside ``target`` that replaces it once complete, and is removed on failure.
    Raises :class:`click.ClickException` naming the path when it cannot be written."""
    _refuse_folder(target)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _cannot(target, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for block in data:
                handle.write(block)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _cannot(target, exc.strerror or str(exc)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@click.command("export")
@click.option(
    "--format",
    "export_format",
    type=click.Choice([f.value for f in ExportFormat]),
    default=ExportFormat.CSV.value,
    show_default=True,
    help="csv: a zip of members.csv, earned.csv, consent.csv and ledger.csv (formula-safe "
    "cells); json: one JSON document with the values exactly as stored.",
)
@click.option(
    "--out",
    "out",
    required=True,
    metavar="PATH",
    help="The file to write (replaced if it exists, readable by you only); - writes JSON to "
    "standard output.",
)
@with_appcontext
def export_command(export_format: str, out: str) -> None:
    """Export every member, what they earned, their permissions and the whole consent ledger.

    Events of deleted members stay pseudonymous: their subject number, no member. The export
    reads one snapshot of the database and never holds back the site's writes.
    """
    chosen = ExportFormat(export_format)
    if out == STDOUT and chosen is not ExportFormat.JSON:
        raise click.UsageError(
            "a zip is not written to standard output: give --out a file name, or use --format json"
        )
    if out != STDOUT:
        _refuse_folder(Path(out))  # before the download is recorded
    now = clock.now()
    record_export(chosen, CLI, f"command line ({getpass.getuser()})", None, now)
    export = MemberExport(now, site_identity())
    if out == STDOUT:
        stream = sys.stdout.buffer
        for block in chunks(export, chosen):
            stream.write(block)
        stream.flush()
        click.echo(f"Exported {export.summary()}.", err=True)
        return
    target = Path(out)
    write_file(target, chunks(export, chosen))
    click.echo(f"Exported {export.summary()} to {target}.")
