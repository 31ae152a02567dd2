"""The surveys of ``content/surveys/``: every good one by slug, and the problems of the others.

A broken file is skipped and logged, never taking the other surveys (or the site) down; its
problems are kept for the ``surveys`` content check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.engage.surveys import Survey, read_survey
from app.registry import Slot
from app.site.frontmatter import SourceError

log = logging.getLogger("pullfirst.engage")


@dataclass(frozen=True)
class SurveyShelf:
    """Every good survey by slug, and the problems of the files that were skipped."""

    surveys: dict[str, Survey]
    problems: tuple[SourceError, ...]

    def listed(self) -> list[Survey]:
        """Surveys by opening date, newest first."""
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(
            self.surveys.values(), key=lambda s: (s.opens_at or epoch, s.slug), reverse=True
        )


def load_shelf(paths: Iterable[Path]) -> SurveyShelf:
    surveys: dict[str, Survey] = {}
    problems: list[SourceError] = []
    for path in sorted(paths):
        survey, found = read_survey(path)
        if survey is None:
            for problem in found:
                log.error("survey skipped: %s", problem)
            problems.extend(found)
        else:
            surveys[survey.slug] = survey
    return SurveyShelf(surveys, tuple(problems))


class SurveySource:
    """The surveys of one folder, read again when any file in it changes (one stat per file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._shelf = SurveyShelf({}, ())

    def _paths(self) -> list[Path]:
        return sorted(self.folder.glob("*.md")) if self.folder.is_dir() else []

    def get(self) -> SurveyShelf:
        stamp = []
        for path in self._paths():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            stamp.append((str(path), stat.st_mtime_ns, stat.st_size))
        if tuple(stamp) != self._stamp:
            self._shelf = load_shelf(Path(p) for p, _, _ in stamp)
            self._stamp = tuple(stamp)
        return self._shelf


SURVEYS = Slot[SurveySource](
    "surveys", "the surveys in content/surveys/", set_by="app.engage.wiring.init_app"
)
