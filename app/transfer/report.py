"""The dry run's report in words (the command line, the admin screen) and as a CSV file."""

from __future__ import annotations

from typing import Any

from app.transfer.checking import Report
from app.transfer.reading import Encoding

ENCODINGS = {
    Encoding.UTF8: "UTF-8",
    Encoding.CP1252: "Windows-1252 (read as such: no line of it is UTF-8)",
    Encoding.MIXED: "UTF-8 with lines in another encoding (reported as bad rows)",
}


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def summary(report: Report) -> list[str]:
    """The counts, one line each."""
    return [
        f"new members: {report.new:,} ({report.with_evidence:,} with evidence of consent, "
        f"{report.current_wording:,} of them to the scope's current words)",
        f"asked to say yes again: {report.asked_again:,} (one plain invitation each)",
        f"already members: {report.existing:,} (skipped)",
        f"left the old list: {report.left_out:,} (not imported)",
        f"bad rows: {len(report.bad):,}",
    ]


def report_lines(report: Report, shown_as: str) -> list[str]:
    """The whole report: a heading, the counts, then every bad row and warning as
    ``file:line: reason``."""
    mapping = ", ".join(f"{field}={column.strip()}" for field, column in report.mapping.items())
    lines = [
        f"{shown_as}: {report.format_label}, {ENCODINGS[report.encoding]}, "
        f"{_plural(report.rows, 'row')}",
        f"  columns: {mapping}",
        *(f"  {line}" for line in summary(report)),
    ]
    for bad in report.bad:
        shown = f" ({bad.email})" if bad.email else ""
        lines.append(f"{shown_as}:{bad.line}: {bad.reason}{shown}")
    for warned in report.warnings:
        lines.append(f"{shown_as}:{warned.line}: warning: {warned.warning}")
    return lines


def write_report(report: Report, writer: Any) -> None:
    """Every bad row and warning to a ``csv.writer``: line, email, problem, reason. Cells that
    a spreadsheet would read as a formula are prefixed with an apostrophe."""
    writer.writerow(["line", "email", "problem", "reason"])
    for bad in report.bad:
        writer.writerow([bad.line, _safe(bad.email), "bad row", bad.reason])
    for warned in report.warnings:
        writer.writerow([warned.line, _safe(warned.email), "warning", warned.warning])


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell
