"""The table of bench/lighthouse.sh: reads its JSON reports, prints page x preset x the four
category scores (the median when a page was audited more than once) and exits 1 when a desktop
score misses its target (not a benchmark itself).

    python bench/_lighthouse.py OUT_DIR PAGE=URL [PAGE=URL ...]

Reports are named ``<page>-<preset>-<run>.report.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
HEADINGS = ("perf", "a11y", "bp", "seo")
# The targets: SEO 100; accessibility, best practices and performance at least 95; and nothing
# below what a Hugo-built article scored on these machines (100, 100, 96, 100).
DESKTOP_TARGETS = {"performance": 100, "accessibility": 100, "best-practices": 96, "seo": 100}


def _scores(path: Path) -> dict[str, float]:
    """The four category scores of one report."""
    report = json.loads(path.read_text())
    if report.get("runtimeError"):
        raise ValueError(report["runtimeError"].get("message", "runtime error"))
    scores: dict[str, float] = {
        k: 100 * (report["categories"][k]["score"] or 0) for k in CATEGORIES
    }
    return scores


def _row(page: str, preset: str, runs: int, cells: list[str], url: str) -> str:
    return f"{page:<8} {preset:<8} {runs:>4} " + " ".join(cells) + f"  {url}"


def main(out: Path, pages: list[tuple[str, str]]) -> int:
    missed: list[str] = []
    notes: list[str] = []
    print(_row("page", "preset", 0, [f"{h:>5}" for h in HEADINGS], "url").replace("    0", "runs"))
    for preset in ("desktop", "mobile"):
        for page, url in pages:
            runs: list[dict[str, float]] = []
            for path in sorted(out.glob(f"{page}-{preset}-*.report.json")):
                try:
                    runs.append(_scores(path))
                except (OSError, ValueError, KeyError) as error:
                    notes.append(f"{path.name}: {error}")
            if not runs:
                print(_row(page, preset, 0, [f"{'err':>5}"] * len(CATEGORIES), url))
                if preset == "desktop":
                    missed.append(f"{page} {preset}: no report")
                continue
            keys = set.intersection(*(set(r) for r in runs))
            median = {k: round(statistics.median(r[k] for r in runs)) for k in keys}
            cells = []
            for category in CATEGORIES:
                mark, counted = "", median[category]
                target = DESKTOP_TARGETS[category]
                if preset == "desktop" and counted < target:
                    mark += "!"
                    missed.append(f"{page} {preset} {category}: {counted} < {target}")
                cells.append(f"{median[category]:>{5 - len(mark)}}{mark}")
            print(_row(page, preset, len(runs), cells, url))
    print(
        _row(
            "target",
            "desktop",
            0,
            [f"{DESKTOP_TARGETS[k]:>5}" for k in CATEGORIES],
            "(mobile is reported, not held to a target)",
        ).replace("    0", "    ")
    )
    for note in dict.fromkeys(notes):
        print(note)
    if missed:
        print("missed desktop targets (marked !):")
        for line in missed:
            print(f"  {line}")
        return 1
    print("every desktop target met")
    return 0


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    named = [arg.split("=", 1) for arg in sys.argv[2:]]
    sys.exit(main(folder, [(name, url) for name, url in named]))
