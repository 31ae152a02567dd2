"""``flask stickers …``: check packs against every platform's limits, and build them."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.stickers import limits, personal
from app.stickers.build import BuildReport, planned, run_build
from app.stickers.check import CheckRow, check_packs
from app.stickers.context import build_options
from app.stickers.errors import PackProblem
from app.stickers.spec import SPEC_FILE

stickers_cli = AppGroup("stickers", help="Sticker packs: check and build them.")

HEADINGS = (
    "PACK",
    "#",
    "FILE",
    "SOURCE",
    *(p.label.upper() for p in limits.PLATFORMS),
    "STATUS",
    "EMOJI",
)


def _where(options_dir: Path, problem: PackProblem) -> str:
    return problem.located(str(options_dir / problem.pack / SPEC_FILE))


def _table(rows: list[CheckRow]) -> list[str]:
    cells = [HEADINGS] + [
        (r.pack, r.position, r.file, r.source or "-", *r.sizes, r.status, r.emojis) for r in rows
    ]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(HEADINGS) - 1)]
    return [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + str(row[-1])
        for row in cells
    ]


@stickers_cli.command("check")
@click.option(
    "--pack", "slugs", multiple=True, metavar="SLUG", help="Check only this pack (repeatable)."
)
def check_command(slugs: tuple[str, ...]) -> None:
    """Check every pack against its spec and every platform's limits: one row per sticker,
    then each problem with its file and line. Exits 1 when a pack has a problem."""
    options = build_options(current_app)
    report = check_packs(options, list(slugs) or None)
    if not report.rows and not report.problems:
        click.echo(f"no packs in {options.stickers_dir}")
        return
    for line in _table(report.rows):
        click.echo(line.rstrip())
    sizes = ", ".join(
        f"{p.label} {p.max_sticker_bytes // limits.KiB} KiB" for p in limits.PLATFORMS
    )
    click.echo(
        f"\nlimits per sticker: {sizes}; {limits.MIN_STICKERS} to "
        f"{limits.MAX_STICKERS} stickers, 1 to {limits.MAX_EMOJI} emoji each"
    )
    for path, problem in report.problems:
        click.echo(problem.located(str(path)), err=True)
    if not report.ok:
        raise SystemExit(1)


def _print_report(report: BuildReport, options_dir: Path) -> None:
    for outcome in report.outcomes:
        short = (outcome.hash or "")[:12]
        if outcome.state == "built":
            click.echo(
                f"{outcome.slug}: built {short} ({outcome.stickers} stickers, "
                f"{outcome.seconds:.1f} s)"
            )
        elif outcome.state == "up-to-date":
            click.echo(f"{outcome.slug}: up to date ({short})")
        elif outcome.state == "busy":
            click.echo(f"{outcome.slug}: skipped, another process is building it")
        else:
            click.echo(f"{outcome.slug}: FAILED, nothing was changed", err=True)
            for problem in outcome.problems:
                click.echo("  " + _where(options_dir, problem), err=True)
    if report.peak_worker_rss:
        click.echo(
            f"peak worker memory: {report.peak_worker_rss / 2**20:.0f} MiB; {report.seconds:.2f} s"
        )


@stickers_cli.command("build")
@click.option(
    "--pack", "slugs", multiple=True, metavar="SLUG", help="Build only this pack (repeatable)."
)
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
def build_command(slugs: tuple[str, ...], force: bool) -> None:
    """Build packs into instance/stickers/ for WhatsApp, Telegram and Signal, on every core.
    Unchanged packs are skipped. Exits 1 when a pack failed (its previous build stays)."""
    options = build_options(current_app)
    with planned(options, list(slugs) or None, force) as plan:
        if plan.task_count:
            workers = min(options.worker_count(), plan.task_count)
            label = (
                f"building {len(plan.jobs)} pack{'s' if len(plan.jobs) > 1 else ''} "
                f"with {workers} worker{'s' if workers > 1 else ''}"
            )
            with click.progressbar(length=plan.task_count, label=label, show_pos=True) as bar:
                report = run_build(plan, on_task=bar.update)
        else:
            report = run_build(plan)
    _print_report(report, options.stickers_dir)
    departed = personal.prune_departed_members(options.output_dir)
    if departed:
        click.echo(
            f"removed the personalised stickers of {departed} deleted member"
            f"{'s' if departed > 1 else ''}"
        )
    if report.failed:
        raise SystemExit(1)
